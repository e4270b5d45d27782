import type { FrontendApi, IdentityApi } from '@ory/client';
import { z } from 'zod';
import { OutboundError, type OutboundFailure } from '../outbound/outboundError.js';
import { report, type CallObserver } from '../outbound/observe.js';
import { withRetries, type CallOptions } from '../outbound/retry.js';
import { nextPageToken } from './pageToken.js';

/** The operations Kratos accepts in an identity JSON Patch (reference/kratos-actions.md, "Admin API"). */
export interface JsonPatchOperation {
  op: 'add' | 'replace' | 'remove';
  path: string;
  value?: unknown;
}

/** The parts of an admin identity this service reads. */
export interface KratosIdentity {
  id: string;
  traits: unknown;
  metadataAdmin: unknown;
  metadataPublic: unknown;
  createdAt: string | null;
  /** `active` or `inactive`; an inactive identity can neither log in nor use its sessions. */
  state: string | null;
  /**
   * Its email addresses among `verifiable_addresses`, with whether the person proved they own
   * each (Kratos's verification flow). For an email sent now; never stored or logged.
   */
  emailAddresses: { value: string; verified: boolean }[];
  schemaId: string | null;
}

/** One page of Kratos's identity list, and the token of the next page (none on the last). */
export interface IdentityPage {
  identities: KratosIdentity[];
  nextPageToken: string | undefined;
}

export interface IdentityListing {
  /** 1 to 500 (Kratos's bound for `page_size`). */
  pageSize: number;
  /** From the previous page's `Link` header; the first page without it. */
  pageToken?: string | undefined;
  /** Only these identities (at most 500; Kratos pages no further with this filter). */
  ids?: readonly string[] | undefined;
}

/** What a session check found. A session owing its second factor (toSession's 403) is no session, but is somebody. */
export type SessionCheck =
  { kind: 'session'; identityId: string } | { kind: 'none' } | { kind: 'second_factor_required' };

/** A recovery code Kratos created for an identity (`POST /admin/recovery/code`). */
export interface RecoveryCode {
  /** Opens Kratos's recovery UI, whose form takes the code. */
  recoveryLink: string;
  recoveryCode: string;
  expiresAt: string | null;
}

/**
 * The second factors recovery by verification removes: the types Kratos's admin API deletes
 * without condition (`DELETE /admin/identities/{id}/credentials/{type}`; for `webauthn` only the
 * keys that are not passwordless). Passwords, social sign-in and passkeys are first factors.
 */
export const SECOND_FACTOR_TYPES = ['totp', 'lookup_secret', 'webauthn'] as const;
export type SecondFactorType = (typeof SECOND_FACTOR_TYPES)[number];

/** How a user proves a Kratos session: the browser's cookies, or a native app's session token. */
export type SessionCredentials = { cookie: string } | { sessionToken: string };

export interface KratosApi {
  /** The identity with its `metadata_admin`, or null when Kratos has no such identity. */
  getIdentity(id: string, options?: CallOptions): Promise<KratosIdentity | null>;
  patchIdentity(id: string, operations: JsonPatchOperation[], options?: CallOptions): Promise<void>;
  /** One page of identities, oldest id first (Kratos's keyset order), with their `metadata_admin`. */
  listIdentities(listing: IdentityListing, options?: CallOptions): Promise<IdentityPage>;
  /** Revokes every session of the identity; an identity Kratos no longer has has none to revoke. */
  revokeSessions(id: string, options?: CallOptions): Promise<void>;
  /** Who the session is (Kratos's toSession): an identity, nobody, or someone still owing a second factor. */
  whoami(credentials: SessionCredentials, options?: CallOptions): Promise<SessionCheck>;
  /**
   * The identity holding a credential with this identifier (email, username, phone), by Kratos's
   * exact, normalised match; null when none does.
   */
  findIdentityByIdentifier(identifier: string, options?: CallOptions): Promise<KratosIdentity | null>;
  /** A recovery code and link for the identity, valid for `expiresIn` (a Go duration such as `10m`). */
  createRecoveryCode(identityId: string, expiresIn: string, options?: CallOptions): Promise<RecoveryCode>;
  /** Deletes the identity's credentials of a type; false when it had none. */
  deleteCredentials(identityId: string, type: SecondFactorType, options?: CallOptions): Promise<boolean>;
  /** Whether the admin API answers: for readiness probes, one attempt, no retries. */
  ready(timeoutMs: number): Promise<boolean>;
  /** Whether the public URL answers a session check itself (without credentials), for start-up and readiness. */
  probePublicUrl(timeoutMs: number): Promise<'ok' | 'redirects' | 'unreachable'>;
}

/**
 * Kratos answers `/sessions/whoami` on its admin port with a 307 to its public base URL
 * (ory/kratos session/handler.go, getSession: "for /admin/sessions/whoami redirect to the public
 * route"). Following it would drop the browser's Cookie, as HTTP clients do when the host or port
 * changes, and every browser would look signed out; so a redirect is never followed and means
 * KRATOS_PUBLIC_URL names something other than the public API.
 */
export const PUBLIC_URL_REDIRECTS =
  "KRATOS_PUBLIC_URL answers Kratos's session check with a redirect: it is not Kratos's public API " +
  '(self-hosted Kratos: the public port, 4433 by default, not the admin port). Session checks fail until it is set right.';

export interface KratosClientOptions {
  adminUrl: string;
  publicUrl: string;
  /** Ory Network project API key, sent as a bearer token; self-hosted admin APIs need none. */
  apiKey: string | undefined;
  timeoutMs: number;
  /** Told about every attempt (metrics). */
  observe?: CallObserver;
}

interface AxiosLikeError {
  code?: string;
  response?: { status?: number };
}

/**
 * What this service reads of Kratos's answers, checked at the edge: an answer of another shape
 * (a proxy's page, `null`) is an `invalid_response` like any other failed call, never a crash.
 */
/** The identity's email addresses; entries of another shape are passed over, not trusted. */
const emailAddressesAnswer = z
  .array(z.unknown())
  .nullish()
  .transform((entries) =>
    (entries ?? []).flatMap((entry) => {
      const address = z.object({ value: z.string().min(3), verified: z.boolean(), via: z.string() }).safeParse(entry);
      return address.success && address.data.via === 'email'
        ? [{ value: address.data.value, verified: address.data.verified }]
        : [];
    }),
  );
const identityAnswer = z.object({
  id: z.string().min(1),
  traits: z.unknown(),
  metadata_admin: z.unknown(),
  metadata_public: z.unknown(),
  created_at: z.string().nullish(),
  state: z.string().nullish(),
  verifiable_addresses: emailAddressesAnswer,
  schema_id: z.string().nullish(),
});
const recoveryCodeAnswer = z.object({
  recovery_link: z.string().min(1),
  recovery_code: z.string().min(1),
  expires_at: z.string().nullish(),
});
/** A page of the identity list: the identities, and the `Link` header that names the next page. */
const identityPageAnswer = z.object({ identities: z.array(identityAnswer), link: z.string().optional() });
const sessionAnswer = z.object({
  active: z.boolean().nullish(),
  identity: z.object({ id: z.string().min(1) }).nullish(),
});

/** Sorts a failed call into an outbound failure: an axios error from @ory/client loses its response body. */
function toFailure(error: unknown): OutboundFailure {
  if (error instanceof OutboundError) return error.failure;
  const { code, response } = (error ?? {}) as AxiosLikeError;
  if (response?.status !== undefined && response.status >= 300 && response.status < 400)
    return { kind: 'redirect', status: response.status };
  if (response?.status !== undefined) return { kind: 'status', status: response.status };
  if (code === 'ECONNABORTED' || code === 'ETIMEDOUT' || code === 'ERR_CANCELED') return { kind: 'timeout' };
  return { kind: 'network', code: typeof code === 'string' ? code : 'unknown' };
}

/** The parts of an admin identity (`getIdentity`, `listIdentities`) this service reads. */
const identityOf = (data: z.output<typeof identityAnswer>): KratosIdentity => ({
  id: data.id,
  traits: data.traits,
  metadataAdmin: data.metadata_admin,
  metadataPublic: data.metadata_public,
  createdAt: data.created_at ?? null,
  state: data.state ?? null,
  emailAddresses: data.verifiable_addresses,
  schemaId: data.schema_id ?? null,
});

export function createKratosClient(options: KratosClientOptions): KratosApi {
  // @ory/client is the heaviest module here (1.2 MB, a tenth of a second to load): it loads with
  // the first Kratos call, so the service accepts connections sooner and the login gate, which
  // seldom calls Kratos, does not carry it.
  let sdk: Promise<{ identities: IdentityApi; frontend: FrontendApi }> | undefined;
  const loadSdk = () =>
    (sdk ??= import('@ory/client').then(({ Configuration, FrontendApi, IdentityApi }) => ({
      identities: new IdentityApi(new Configuration({ basePath: options.adminUrl, accessToken: options.apiKey })),
      frontend: new FrontendApi(new Configuration({ basePath: options.publicUrl })),
    })));

  /**
   * Runs one call with retries and checks its answer against `schema`; a failure loses its axios
   * error, which carries our headers.
   */
  const call = async <T>(
    operation: string,
    run: (signal: AbortSignal) => Promise<{ status: number; data: unknown }>,
    schema: z.ZodType<T>,
    callOptions?: CallOptions,
  ): Promise<T> =>
    withRetries(
      async (signal) => {
        const started = performance.now();
        const observers = [options.observe, callOptions?.observe];
        try {
          const { status, data } = await run(signal);
          const parsed = schema.safeParse(data);
          if (!parsed.success) throw new OutboundError('kratos', operation, { kind: 'invalid_response' });
          report(observers, { target: 'kratos', operation, durationMs: performance.now() - started, status });
          return parsed.data;
        } catch (error) {
          const failure = toFailure(error);
          const status = failure.kind === 'status' || failure.kind === 'redirect' ? failure.status : undefined;
          report(observers, { target: 'kratos', operation, durationMs: performance.now() - started, status, failure });
          throw new OutboundError('kratos', operation, failure);
        }
      },
      { timeoutMs: options.timeoutMs, deadline: callOptions?.deadline, fence: callOptions?.fence },
    );

  return {
    async getIdentity(id, callOptions) {
      try {
        const data = await call(
          'getIdentity',
          async (signal) => (await loadSdk()).identities.getIdentity({ id }, { signal }),
          identityAnswer,
          callOptions,
        );
        return identityOf(data);
      } catch (error) {
        if (error instanceof OutboundError && error.status === 404) return null;
        throw error;
      }
    },

    async findIdentityByIdentifier(identifier, callOptions) {
      const found = await call(
        'listIdentities',
        async (signal) =>
          (await loadSdk()).identities.listIdentities({ credentialsIdentifier: identifier }, { signal }),
        // Identifiers are unique in Kratos: at most one identity matches.
        z.array(identityAnswer).max(1),
        callOptions,
      ).then(([identity]) => identity);
      return found === undefined ? null : identityOf(found);
    },

    async createRecoveryCode(identityId, expiresIn, callOptions) {
      // Not idempotent: a retried create leaves an earlier code nobody has seen, which expires unused.
      const data = await call(
        'createRecoveryCodeForIdentity',
        async (signal) =>
          (await loadSdk()).identities.createRecoveryCodeForIdentity(
            { createRecoveryCodeForIdentityBody: { identity_id: identityId, expires_in: expiresIn } },
            { signal },
          ),
        recoveryCodeAnswer,
        callOptions,
      );
      return { recoveryLink: data.recovery_link, recoveryCode: data.recovery_code, expiresAt: data.expires_at ?? null };
    },

    async deleteCredentials(identityId, type, callOptions) {
      try {
        await call(
          'deleteIdentityCredentials',
          async (signal) =>
            (await loadSdk()).identities.deleteIdentityCredentials({ id: identityId, type }, { signal }),
          z.unknown(),
          callOptions,
        );
        return true;
      } catch (error) {
        // Kratos answers 404 when the identity has no credentials of that type.
        if (error instanceof OutboundError && error.status === 404) return false;
        throw error;
      }
    },

    async listIdentities(listing, callOptions) {
      const page = await call(
        'listIdentities',
        async (signal) => {
          const { status, data, headers } = await (
            await loadSdk()
          ).identities.listIdentities(
            {
              pageSize: listing.pageSize,
              ...(listing.pageToken !== undefined && { pageToken: listing.pageToken }),
              ...(listing.ids !== undefined && { ids: [...listing.ids] }),
            },
            { signal },
          );
          const link: unknown = (headers as Record<string, unknown>)['link'];
          return { status, data: { identities: data, link: typeof link === 'string' ? link : undefined } };
        },
        identityPageAnswer,
        callOptions,
      );
      return {
        identities: page.identities.map(identityOf),
        // The `ids` filter is one page by definition (Kratos's listIdentities).
        nextPageToken: listing.ids === undefined ? nextPageToken(page.link) : undefined,
      };
    },

    async patchIdentity(id, operations, callOptions) {
      // The patched identity Kratos answers with is not read.
      await call(
        'patchIdentity',
        async (signal) => (await loadSdk()).identities.patchIdentity({ id, jsonPatch: operations }, { signal }),
        z.unknown(),
        callOptions,
      );
    },

    async revokeSessions(id, callOptions) {
      try {
        await call(
          'deleteIdentitySessions',
          async (signal) => (await loadSdk()).identities.deleteIdentitySessions({ id }, { signal }),
          z.unknown(),
          callOptions,
        );
      } catch (error) {
        if (!(error instanceof OutboundError && error.status === 404)) throw error;
      }
    },

    async ready(timeoutMs) {
      // Self-hosted Kratos has a health endpoint; on Ory Network the cheapest authenticated call
      // proves both reachability and the API key.
      if (options.apiKey !== undefined) {
        const { identities } = await loadSdk();
        return identities.listIdentities({ pageSize: 1 }, { signal: AbortSignal.timeout(timeoutMs) }).then(
          () => true,
          () => false,
        );
      }
      return fetch(`${options.adminUrl}/admin/health/ready`, { signal: AbortSignal.timeout(timeoutMs) }).then(
        async (response) => {
          await response.body?.cancel();
          return response.ok;
        },
        () => false,
      );
    },

    async probePublicUrl(timeoutMs) {
      return fetch(`${options.publicUrl}/sessions/whoami`, {
        redirect: 'manual',
        signal: AbortSignal.timeout(timeoutMs),
      }).then(
        async (response) => {
          await response.body?.cancel();
          return response.status >= 300 && response.status < 400 ? 'redirects' : 'ok';
        },
        () => 'unreachable' as const,
      );
    },

    async whoami(credentials, callOptions) {
      const parameters =
        'cookie' in credentials ? { cookie: credentials.cookie } : { xSessionToken: credentials.sessionToken };
      try {
        const data = await call(
          'toSession',
          // maxRedirects 0: see PUBLIC_URL_REDIRECTS.
          async (signal) => (await loadSdk()).frontend.toSession(parameters, { signal, maxRedirects: 0 }),
          sessionAnswer,
          callOptions,
        );
        const identityId = data.active === false ? undefined : data.identity?.id;
        return identityId === undefined ? { kind: 'none' } : { kind: 'session', identityId };
      } catch (error) {
        // 401: no active session; 403: a second factor is still missing.
        if (error instanceof OutboundError && error.status === 401) return { kind: 'none' };
        if (error instanceof OutboundError && error.status === 403) return { kind: 'second_factor_required' };
        throw error;
      }
    },
  };
}

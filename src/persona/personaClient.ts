import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { OutboundError, type OutboundFailure, type RateLimitWindow } from '../outbound/outboundError.js';
import { report, type CallObserver } from '../outbound/observe.js';
import { withRetries, type CallOptions } from '../outbound/retry.js';
import { accountResource, type Account } from './account.js';
import { inquiryResource, isCompleteInquiry, type CompleteInquiry, type Inquiry } from './inquiry.js';
import { inquiryWithVerifications, verifiedDocumentsOf, type VerifiedDocument } from './verifiedDocument.js';

export type PrefillValues = Record<string, string | number | boolean>;

export interface CreateInquiryInput {
  templateId: string;
  /**
   * The Kratos identity id: one Persona account per identity (reference/persona-api.md); for a
   * recovery request that names no recoverable identity, a decoy of the same shape
   * (recovery/decoyReference.ts), whose webhooks name no identity.
   */
  referenceId: string;
  fields: PrefillValues;
  /** Shown in Persona's dashboard; starts with SERVICE_NOTE_PREFIX (inquiry.ts). */
  note: string;
  /** Replayed by Persona for 24 h, so a retried create returns the same inquiry. */
  idempotencyKey: string;
}

export interface PersonaApi {
  createInquiry(input: CreateInquiryInput, options?: CallOptions): Promise<CompleteInquiry>;
  getInquiry(inquiryId: string, options?: CallOptions): Promise<Inquiry>;
  /** The name and birthdate of each of the inquiry's passed government-id verifications. */
  getVerifiedDocuments(inquiryId: string, options?: CallOptions): Promise<VerifiedDocument[]>;
  /** A session token for a pending inquiry; an expired one is set back to pending. */
  resumeInquiry(inquiryId: string, options?: CallOptions): Promise<{ sessionToken: string }>;
  /** A single-use link into the hosted flow, valid for `expiresInSeconds`. */
  generateOneTimeLink(inquiryId: string, expiresInSeconds: number, options?: CallOptions): Promise<{ link: string }>;
  /** One page of inquiries (of a template, of accounts, of a reference id, created in a window), newest first. */
  listInquiries(query: InquiryListQuery, options?: CallOptions): Promise<InquiryPage>;
  /** The reference id a Persona account carries (null: none). */
  getAccount(accountId: string, options?: CallOptions): Promise<Account>;
  /**
   * The accounts that carry `referenceId`: one, since all inquiries of a reference id belong to one
   * account (reference/persona-api.md), or none before its first inquiry. The way to an identity's
   * inquiries: Persona documents `filter[reference-id]` on `GET /inquiries` as the inquiry's own
   * reference id, which its 2025-12-08 examples show null where the account alone carries it.
   */
  findAccounts(referenceId: string, options?: CallOptions): Promise<Account[]>;
  /**
   * Redacts an inquiry's personal data (`DELETE /inquiries/{id}`, irreversible): its id, status and
   * times stay. Null when Persona has no such inquiry.
   */
  redactInquiry(inquiryId: string, options?: CallOptions): Promise<Inquiry | null>;
  /** Redacts an account and, as Persona documents, every inquiry under it. Null when it has no such account. */
  redactAccount(accountId: string, options?: CallOptions): Promise<Account | null>;
}

export interface InquiryListQuery {
  /** Only the inquiries of this template; every template's when absent (with `accountId`). */
  templateId?: string | undefined;
  /** Only the inquiries of this Persona account. */
  accountId?: string | undefined;
  createdAfter?: Date | undefined;
  /** Only the inquiries of these accounts (`findAccounts`); none listed, no inquiry. */
  accountIds?: readonly string[] | undefined;
  /** Only the inquiries created at or before this time. */
  createdBefore?: Date | undefined;
  /** Only the inquiries whose own reference id is this (null where the account alone carries it). */
  referenceId?: string | undefined;
  /** The cursor of the previous page (`page[after]`). */
  after?: string | undefined;
  pageSize?: number;
}

export interface InquiryPage {
  inquiries: Inquiry[];
  /** The cursor of the next page; undefined on the last one. */
  next: string | undefined;
}

export interface PersonaClientOptions {
  apiBase: string;
  apiKey: string;
  /** Pinned `Persona-Version`, so payload shapes cannot change under us. */
  version: string;
  timeoutMs: number;
  fetch?: typeof fetch;
  /** Told about every attempt (metrics). */
  observe?: CallObserver;
}

const singleInquiry = z.object({ data: inquiryResource });
const withSessionToken = z.object({ meta: z.object({ 'session-token': z.string().min(1) }) });
const withOneTimeLink = z.object({ meta: z.object({ 'one-time-link': z.string().url() }) });
const singleAccount = z.object({ data: accountResource });
const accountList = z.object({ data: z.array(accountResource) });
/** One reference id has one account; a few more are read, should an operator have made them. */
const ACCOUNTS_PAGE_SIZE = 10;
const inquiryList = z.object({
  data: z.array(inquiryResource),
  links: z.object({ next: z.string().nullable().optional() }).nullable().optional(),
});

/** The `page[after]` cursor of a `links.next` URL (absolute or relative). */
const cursorOf = (next: string | null | undefined) =>
  next ? (new URL(next, 'https://persona.invalid').searchParams.get('page[after]') ?? undefined) : undefined;

/** Legacy `tmpl_` templates are named by `template-id`, current `itmpl_` ones by `inquiry-template-id`. */
const templateAttribute = (templateId: string) =>
  templateId.startsWith('tmpl_') ? 'template-id' : 'inquiry-template-id';

const headerNumber = (value: string | null) => {
  const parsed = value === null ? Number.NaN : Number(value);
  return Number.isFinite(parsed) && parsed >= 0 ? parsed : undefined;
};

function fetchFailure(error: unknown): OutboundFailure {
  const name = (error as { name?: string } | null)?.name;
  if (name === 'TimeoutError' || name === 'AbortError') return { kind: 'timeout' };
  const code = (error as { cause?: { code?: unknown } } | null)?.cause?.code;
  return { kind: 'network', code: typeof code === 'string' ? code : 'fetch_failed' };
}

export function createPersonaClient(options: PersonaClientOptions): PersonaApi {
  const fetchImpl = options.fetch ?? fetch;

  async function call(
    operation: string,
    method: 'GET' | 'POST' | 'DELETE',
    path: string,
    init: { body?: unknown; idempotencyKey?: string },
    callOptions: CallOptions = {},
  ): Promise<unknown> {
    const observers = [options.observe, callOptions.observe];
    return withRetries(
      async (signal) => {
        const started = performance.now();
        try {
          const { body, status, requestId, rateLimit } = await attempt(operation, method, path, init, signal);
          report(observers, {
            target: 'persona',
            operation,
            durationMs: performance.now() - started,
            status,
            requestId,
            rateLimit,
          });
          return body;
        } catch (error) {
          const { failure, details } = error as OutboundError;
          report(observers, {
            target: 'persona',
            operation,
            durationMs: performance.now() - started,
            status: failure.kind === 'status' ? failure.status : undefined,
            failure,
            requestId: details.requestId,
            rateLimit: details.rateLimit,
          });
          throw error;
        }
      },
      { timeoutMs: options.timeoutMs, deadline: callOptions.deadline, fence: callOptions.fence },
    );
  }

  async function attempt(
    operation: string,
    method: 'GET' | 'POST' | 'DELETE',
    path: string,
    init: { body?: unknown; idempotencyKey?: string },
    signal: AbortSignal,
  ): Promise<{ body: unknown; status: number; requestId: string | undefined; rateLimit: RateLimitWindow }> {
    const headers: Record<string, string> = {
      Authorization: `Bearer ${options.apiKey}`,
      Accept: 'application/json',
      'Persona-Version': options.version,
      'Key-Inflection': 'kebab',
    };
    if (init.body !== undefined) headers['Content-Type'] = 'application/json';
    if (init.idempotencyKey !== undefined) headers['Idempotency-Key'] = init.idempotencyKey;

    let response: Response;
    try {
      response = await fetchImpl(`${options.apiBase}${path}`, {
        method,
        headers,
        body: init.body === undefined ? null : JSON.stringify(init.body),
        signal,
      });
    } catch (error) {
      throw new OutboundError('persona', operation, fetchFailure(error));
    }
    const rateLimit = {
      limit: headerNumber(response.headers.get('ratelimit-limit')),
      remaining: headerNumber(response.headers.get('ratelimit-remaining')),
      resetSeconds: headerNumber(response.headers.get('ratelimit-reset')),
    };
    const details = {
      requestId: response.headers.get('request-id') ?? undefined,
      rateLimit,
    };
    if (!response.ok) {
      // The error body is neither read nor kept: it may echo personal data (pitfalls.md, 14).
      await response.body?.cancel().catch(() => undefined);
      // Persona saves the first answer to a keyed POST, 5xx included, and replays it for 24 h;
      // only 401 and 429 are decided before its idempotency layer (reference/persona-api.md).
      const answerStored = init.idempotencyKey !== undefined && response.status !== 401 && response.status !== 429;
      throw new OutboundError(
        'persona',
        operation,
        { kind: 'status', status: response.status },
        { ...details, answerStored },
      );
    }
    try {
      return { body: await response.json(), status: response.status, requestId: details.requestId, rateLimit };
    } catch (error) {
      const failure = fetchFailure(error);
      throw new OutboundError(
        'persona',
        operation,
        failure.kind === 'timeout' ? failure : { kind: 'invalid_response' },
        details,
      );
    }
  }

  const parse = <T extends z.ZodType>(schema: T, operation: string, body: unknown): z.output<T> => {
    const parsed = schema.safeParse(body);
    if (!parsed.success) throw new OutboundError('persona', operation, { kind: 'invalid_response' });
    return parsed.data;
  };
  /** A redaction of what Persona does not have (404) has nothing to do. */
  const orNotFound = async <T>(redact: () => Promise<T>): Promise<T | null> => {
    try {
      return await redact();
    } catch (error) {
      if (error instanceof OutboundError && error.status === 404) return null;
      throw error;
    }
  };
  const inquiryPath = (inquiryId: string, action = '') => `/inquiries/${encodeURIComponent(inquiryId)}${action}`;

  return {
    async createInquiry(input, callOptions) {
      const attributes: Record<string, unknown> = {
        [templateAttribute(input.templateId)]: input.templateId,
        note: input.note,
      };
      if (Object.keys(input.fields).length > 0) attributes['fields'] = input.fields;
      const body = await call(
        'createInquiry',
        'POST',
        '/inquiries',
        {
          body: {
            data: { attributes },
            meta: { 'auto-create-account-reference-id': input.referenceId },
          },
          idempotencyKey: input.idempotencyKey,
        },
        callOptions,
      );
      const inquiry = parse(singleInquiry, 'createInquiry', body).data;
      const complete = {
        ...inquiry,
        templateId: inquiry.templateId ?? input.templateId,
        referenceId: inquiry.referenceId ?? input.referenceId,
        openedByService: true,
      };
      if (!isCompleteInquiry(complete))
        throw new OutboundError('persona', 'createInquiry', { kind: 'invalid_response' });
      return complete;
    },

    async getInquiry(inquiryId, callOptions) {
      const body = await call('getInquiry', 'GET', inquiryPath(inquiryId), {}, callOptions);
      return parse(singleInquiry, 'getInquiry', body).data;
    },

    async getVerifiedDocuments(inquiryId, callOptions) {
      // Verifications come only in `included`, and only when asked for (reference/persona-api.md).
      const path = `${inquiryPath(inquiryId)}?include=verifications`;
      const body = parse(
        inquiryWithVerifications,
        'getVerifiedDocuments',
        await call('getVerifiedDocuments', 'GET', path, {}, callOptions),
      );
      if (body.data.id !== inquiryId)
        throw new OutboundError('persona', 'getVerifiedDocuments', { kind: 'invalid_response' });
      return verifiedDocumentsOf(inquiryId, body);
    },

    async resumeInquiry(inquiryId, callOptions) {
      // A fresh key per call: its retries are replayed, a later visit gets a new token. Resume
      // takes no body (the 2025-12-08 document declares none).
      const body = await call(
        'resumeInquiry',
        'POST',
        inquiryPath(inquiryId, '/resume'),
        { idempotencyKey: randomUUID() },
        callOptions,
      );
      return { sessionToken: parse(withSessionToken, 'resumeInquiry', body).meta['session-token'] };
    },

    async listInquiries(query, callOptions) {
      // An empty `filter[account-id]` would filter nothing: the inquiries of no account are none.
      if (query.accountIds?.length === 0) return { inquiries: [], next: undefined };
      const parameters = new URLSearchParams({ 'page[size]': String(query.pageSize ?? 100) });
      if (query.templateId !== undefined)
        parameters.set(`filter[${templateAttribute(query.templateId)}]`, query.templateId);
      if (query.accountIds !== undefined) parameters.set('filter[account-id]', query.accountIds.join(','));
      if (query.referenceId !== undefined) parameters.set('filter[reference-id]', query.referenceId);
      if (query.createdAfter !== undefined)
        parameters.set('filter[created-at-start]', query.createdAfter.toISOString());
      if (query.createdBefore !== undefined)
        parameters.set('filter[created-at-end]', query.createdBefore.toISOString());
      if (query.after !== undefined) parameters.set('page[after]', query.after);
      const body = await call('listInquiries', 'GET', `/inquiries?${parameters}`, {}, callOptions);
      const page = parse(inquiryList, 'listInquiries', body);
      return { inquiries: page.data, next: cursorOf(page.links?.next) };
    },

    async getAccount(accountId, callOptions) {
      const body = await call('getAccount', 'GET', `/accounts/${encodeURIComponent(accountId)}`, {}, callOptions);
      return parse(singleAccount, 'getAccount', body).data;
    },

    async findAccounts(referenceId, callOptions) {
      const parameters = new URLSearchParams({
        'filter[reference-id]': referenceId,
        'page[size]': String(ACCOUNTS_PAGE_SIZE),
      });
      const body = await call('findAccounts', 'GET', `/accounts?${parameters}`, {}, callOptions);
      // Persona's filter takes a comma list: a reference id with a comma could match others.
      return parse(accountList, 'findAccounts', body).data.filter((account) => account.referenceId === referenceId);
    },

    redactInquiry: (inquiryId, callOptions) =>
      orNotFound(async () => {
        const body = await call('redactInquiry', 'DELETE', inquiryPath(inquiryId), {}, callOptions);
        return parse(singleInquiry, 'redactInquiry', body).data;
      }),

    redactAccount: (accountId, callOptions) =>
      orNotFound(async () => {
        const path = `/accounts/${encodeURIComponent(accountId)}`;
        return parse(singleAccount, 'redactAccount', await call('redactAccount', 'DELETE', path, {}, callOptions)).data;
      }),

    async generateOneTimeLink(inquiryId, expiresInSeconds, callOptions) {
      const body = await call(
        'generateOneTimeLink',
        'POST',
        inquiryPath(inquiryId, '/generate-one-time-link'),
        {
          body: { meta: { 'expires-in-seconds': expiresInSeconds } },
          idempotencyKey: randomUUID(),
        },
        callOptions,
      );
      return { link: parse(withOneTimeLink, 'generateOneTimeLink', body).meta['one-time-link'] };
    },
  };
}

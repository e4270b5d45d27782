import { hkdfSync } from 'node:crypto';
import { z } from 'zod';
import { parseDuration } from './duration.js';

export const LOGIN_POLICIES = ['block-declined', 'require-approved'] as const;
export type LoginPolicyName = (typeof LOGIN_POLICIES)[number];

/** What happens to the account when a decline becomes the identity's standing decision. */
export const DECLINE_ACTIONS = ['revoke_sessions', 'deactivate', 'none'] as const;
export type DeclineAction = (typeof DECLINE_ACTIONS)[number];

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

/** How users meet Persona: redirected to the hosted flow, or through the embedded SDK in the app. */
const INQUIRY_TYPES = ['hosted', 'embedded'] as const;
export type InquiryType = (typeof INQUIRY_TYPES)[number];

/** Persona's newest documented API version (reference/persona-api.md); pinned so payloads cannot change under us. */
const DEFAULT_PERSONA_VERSION = '2025-12-08';

export interface PrefillField {
  /** Persona template field, e.g. `name-first`. */
  field: string;
  /** Path into the Kratos traits, e.g. `['name', 'first']`. */
  traitPath: string[];
}

export interface Config {
  port: number;
  host: string;
  logLevel: (typeof LOG_LEVELS)[number];
  /** Secrets Kratos may present in `X-Webhook-Secret`; several during rotation. */
  oryWebhookSecrets: string[];
  kratos: {
    adminUrl: string;
    publicUrl: string;
    /** Ory Network project API key; self-hosted admin APIs need none. */
    apiKey: string | undefined;
    timeoutMs: number;
  };
  persona: {
    apiBase: string;
    apiKey: string;
    version: string;
    /** The first template creates inquiries; all of them are accepted in webhooks. */
    templateIds: string[];
    webhookSecrets: string[];
    signatureToleranceSeconds: number;
    prefillFields: PrefillField[];
    timeoutMs: number;
    inquiryType: InquiryType;
    hostedFlowUrl: string;
  };
  record: {
    /** Write `metadata_public.persona` so the login gate needs no admin call. */
    publicMirror: boolean;
    approvedStatuses: ReadonlySet<string>;
    declinedStatuses: ReadonlySet<string>;
    /** ON_DECLINE: revoke the identity's sessions, set it inactive. */
    onDecline: { revokeSessions: boolean; deactivate: boolean };
  };
  login: {
    policy: LoginPolicyName;
    gracePeriodMs: number | undefined;
    /** An approval older than this counts as "re-verification required". */
    reverifyAfterMs: number | undefined;
    /** LOGIN_MESSAGE_*: the operator's text, in every language; unset: the message catalogue's. */
    messages: {
      declined: string | undefined;
      verificationRequired: string | undefined;
      reverificationRequired: string | undefined;
      unavailable: string | undefined;
    };
  };
  metrics: {
    /** Bearer token(s) /metrics requires; open when unset. */
    tokens: string[] | undefined;
    /** Serve /metrics on this port instead of the service's. */
    port: number | undefined;
  };
  reconcile: {
    /** How often the service reconciles in-process; undefined: never (run `npm run reconcile`). */
    intervalMs: number | undefined;
    /** How far back each in-process run looks. */
    windowMs: number;
  };
  start: {
    /** Where links this service hands out point; without it the gate's messages carry no link. */
    publicBaseUrl: string | undefined;
    returnToAllowlist: string[];
    defaultReturnTo: string | undefined;
    /** Keys of the signed links in block messages; the first signs, all verify. */
    linkSigningKeys: Buffer[];
    linkTtlMs: number;
    /** A declined or failed user may start a new inquiry. */
    allowRetries: boolean;
    /** Where pages that ask users to sign in send them (with `return_to`); no link when unset. */
    loginUrl: string | undefined;
    /** Where pages that end in a refusal or an error send users for help; no link when unset. */
    supportUrl: string | undefined;
  };
}

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((problem) => `  - ${problem}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

const splitList = (text: string) =>
  text
    .split(',')
    .map((item) => item.trim())
    .filter((item) => item.length > 0);

const isHttpUrl = (text: string) => {
  try {
    const url = new URL(text);
    return (url.protocol === 'http:' || url.protocol === 'https:') && url.username === '' && url.password === '';
  } catch {
    return false;
  }
};

const httpUrl = z
  .string()
  .trim()
  .refine(isHttpUrl, 'must be an http(s) URL without credentials')
  .transform((url) => url.replace(/\/+$/, ''));

const secretList = z
  .string()
  .transform(splitList)
  .refine((secrets) => secrets.length > 0, 'must contain at least one secret')
  .refine(
    (secrets) => secrets.every((secret) => secret.length >= 16),
    'every secret must be at least 16 characters (for example `openssl rand -hex 32`)',
  );

const integer = (min: number, max: number, fallback: number) =>
  z
    .string()
    .regex(/^\d+$/, `must be a whole number between ${min} and ${max}`)
    .transform(Number)
    .refine((value) => value >= min && value <= max, `must be between ${min} and ${max}`)
    .prefault(String(fallback));

const duration = z
  .string()
  .transform((text, context) => {
    const ms = parseDuration(text);
    if (ms === undefined) {
      context.addIssue({ code: 'custom', message: 'must be a duration such as 30m, 24h or 365d' });
      return z.NEVER;
    }
    return ms;
  })
  .optional();

const statusList = (fallback: string) =>
  z
    .string()
    .transform(splitList)
    .refine(
      (statuses) => statuses.length > 0 && statuses.every((status) => /^[a-z_]+$/.test(status)),
      'must be a comma-separated list of Persona statuses such as approved,completed',
    )
    .prefault(fallback);

const TRAIT_PATH = /^[A-Za-z0-9_-]+(?:\.[A-Za-z0-9_-]+)*$/;
const PERSONA_FIELD = /^[a-z0-9_-]+$/;

const prefillFields = z
  .string()
  .transform((text, context) => {
    const mappings: PrefillField[] = [];
    for (const entry of splitList(text)) {
      const [field = '', traitPath = ''] = entry.split('=').map((part) => part.trim());
      if (!PERSONA_FIELD.test(field) || !TRAIT_PATH.test(traitPath)) {
        context.addIssue({
          code: 'custom',
          message: 'must be a comma-separated list of persona-field=trait.path, e.g. name-first=name.first',
        });
        return z.NEVER;
      }
      mappings.push({ field, traitPath: traitPath.split('.') });
    }
    return mappings;
  })
  .default([]);

const flag = (fallback: 'true' | 'false') =>
  z
    .enum(['true', 'false'], { message: 'must be true or false' })
    .default(fallback)
    .transform((value) => value === 'true');

const messageOverride = z.string().max(500, 'must be at most 500 characters').optional();

const envSchema = z
  .object({
    PORT: integer(1, 65_535, 3000),
    HOST: z.string().default('0.0.0.0'),
    LOG_LEVEL: z.enum(LOG_LEVELS, { message: `must be one of ${LOG_LEVELS.join(', ')}` }).default('info'),
    ORY_WEBHOOK_SECRET: secretList,
    KRATOS_ADMIN_URL: httpUrl,
    KRATOS_PUBLIC_URL: httpUrl.optional(),
    ORY_API_KEY: z.string().optional(),
    KRATOS_TIMEOUT_MS: integer(100, 30_000, 2_000),
    PERSONA_API_KEY: z.string(),
    PERSONA_API_BASE: httpUrl.default('https://api.withpersona.com/api/v1'),
    PERSONA_VERSION: z
      .string()
      .regex(/^\d{4}-\d{2}-\d{2}$/, 'must be a Persona API version date such as 2025-12-08')
      .default(DEFAULT_PERSONA_VERSION),
    PERSONA_TEMPLATE_ID: z
      .string()
      .transform(splitList)
      .refine(
        (ids) => ids.length > 0 && ids.every((id) => /^(?:itmpl|tmpl)_[A-Za-z0-9]+$/.test(id)),
        'must be one or more inquiry template ids (itmpl_...), comma-separated',
      ),
    PERSONA_WEBHOOK_SECRET: secretList,
    PERSONA_WEBHOOK_TOLERANCE_SECONDS: integer(1, 86_400, 300),
    PERSONA_TIMEOUT_MS: integer(100, 30_000, 4_000),
    PERSONA_PREFILL_FIELDS: prefillFields,
    PERSONA_APPROVED_STATUSES: statusList('approved'),
    PERSONA_DECLINED_STATUSES: statusList('declined'),
    PERSONA_INQUIRY_TYPE: z
      .enum(['hosted', 'embedded', 'hosted-embedded'], { message: 'must be hosted or embedded' })
      .default('hosted')
      // The seed's `hosted-embedded` meant the hosted flow.
      .transform((type): InquiryType => (type === 'embedded' ? 'embedded' : 'hosted')),
    PERSONA_HOSTED_FLOW_URL: httpUrl.default('https://inquiry.withpersona.com'),
    METADATA_PUBLIC_MIRROR: flag('true'),
    ON_DECLINE: z
      .string()
      .transform(splitList)
      .refine(
        (actions) =>
          actions.length > 0 && actions.every((action) => (DECLINE_ACTIONS as readonly string[]).includes(action)),
        `must be a comma-separated list of ${DECLINE_ACTIONS.join(', ')}`,
      )
      .refine(
        (actions) => !actions.includes('none') || actions.length === 1,
        'none cannot be combined with other actions',
      )
      .prefault('revoke_sessions'),
    LOGIN_POLICY: z
      .enum(LOGIN_POLICIES, { message: `must be one of ${LOGIN_POLICIES.join(', ')}` })
      .default('block-declined'),
    LOGIN_GRACE_PERIOD: duration,
    REVERIFY_AFTER: duration,
    LOGIN_MESSAGE_DECLINED: messageOverride,
    LOGIN_MESSAGE_VERIFICATION_REQUIRED: messageOverride,
    LOGIN_MESSAGE_REVERIFICATION_REQUIRED: messageOverride,
    LOGIN_MESSAGE_UNAVAILABLE: messageOverride,
    PUBLIC_BASE_URL: httpUrl.optional(),
    RETURN_TO_ALLOWLIST: z
      .string()
      .transform(splitList)
      .refine((urls) => urls.every(isHttpUrl), 'must be a comma-separated list of http(s) origins or URL prefixes')
      .default([]),
    DEFAULT_RETURN_TO: z.string().trim().refine(isHttpUrl, 'must be an http(s) URL without credentials').optional(),
    LINK_SIGNING_SECRET: secretList.optional(),
    SIGNED_LINK_TTL: duration.transform((ms) => ms ?? 15 * 60_000),
    ALLOW_RETRIES: flag('false'),
    LOGIN_URL: httpUrl.optional(),
    SUPPORT_URL: httpUrl.optional(),
    RECONCILE_INTERVAL: duration,
    METRICS_TOKEN: secretList.optional(),
    METRICS_PORT: z
      .string()
      .regex(/^\d+$/, 'must be a port number')
      .transform(Number)
      .refine((port) => port >= 1 && port <= 65_535, 'must be between 1 and 65535')
      .optional(),
    RECONCILE_WINDOW: duration.transform((ms) => ms ?? 48 * 3_600_000),
  })
  .superRefine((env, context) => {
    const overlap = env.PERSONA_APPROVED_STATUSES.filter((status) => env.PERSONA_DECLINED_STATUSES.includes(status));
    if (overlap.length > 0) {
      context.addIssue({
        code: 'custom',
        path: ['PERSONA_DECLINED_STATUSES'],
        message: 'must not share a status with PERSONA_APPROVED_STATUSES',
      });
    }
  });

/**
 * Without LINK_SIGNING_SECRET the link key is derived from the webhook secret, so that the secret
 * Kratos holds is never itself the key of links shown to users.
 */
const deriveLinkKey = (secret: string) =>
  Buffer.from(hkdfSync('sha256', secret, 'ory-persona-idv', 'signed start links', 32));

/** Every variable the service reads, for the `.env.example` check and the README. */
export const CONFIG_VARIABLES = Object.keys(envSchema.shape);

/**
 * Validates the whole environment at once. Problems name the variable, never its value,
 * because values are secrets more often than not.
 */
export function loadConfig(env: Record<string, string | undefined>): Readonly<Config> {
  const present = Object.fromEntries(
    Object.entries(env).filter((entry): entry is [string, string] => entry[1] !== undefined && entry[1].trim() !== ''),
  );
  const result = envSchema.safeParse(present);
  if (!result.success) {
    throw new ConfigError(
      result.error.issues.map((issue) => {
        const name = String(issue.path[0] ?? 'environment');
        return issue.code === 'invalid_type' && present[name] === undefined
          ? `${name}: is required`
          : `${name}: ${issue.message}`;
      }),
    );
  }
  const vars = result.data;
  return Object.freeze({
    port: vars.PORT,
    host: vars.HOST,
    logLevel: vars.LOG_LEVEL,
    oryWebhookSecrets: vars.ORY_WEBHOOK_SECRET,
    kratos: {
      adminUrl: vars.KRATOS_ADMIN_URL,
      publicUrl: vars.KRATOS_PUBLIC_URL ?? vars.KRATOS_ADMIN_URL,
      apiKey: vars.ORY_API_KEY,
      timeoutMs: vars.KRATOS_TIMEOUT_MS,
    },
    persona: {
      apiBase: vars.PERSONA_API_BASE,
      apiKey: vars.PERSONA_API_KEY,
      version: vars.PERSONA_VERSION,
      templateIds: vars.PERSONA_TEMPLATE_ID,
      inquiryType: vars.PERSONA_INQUIRY_TYPE,
      hostedFlowUrl: vars.PERSONA_HOSTED_FLOW_URL,
      webhookSecrets: vars.PERSONA_WEBHOOK_SECRET,
      signatureToleranceSeconds: vars.PERSONA_WEBHOOK_TOLERANCE_SECONDS,
      prefillFields: vars.PERSONA_PREFILL_FIELDS,
      timeoutMs: vars.PERSONA_TIMEOUT_MS,
    },
    record: {
      publicMirror: vars.METADATA_PUBLIC_MIRROR,
      approvedStatuses: new Set(vars.PERSONA_APPROVED_STATUSES),
      declinedStatuses: new Set(vars.PERSONA_DECLINED_STATUSES),
      onDecline: {
        revokeSessions: vars.ON_DECLINE.includes('revoke_sessions'),
        deactivate: vars.ON_DECLINE.includes('deactivate'),
      },
    },
    login: {
      policy: vars.LOGIN_POLICY,
      gracePeriodMs: vars.LOGIN_GRACE_PERIOD,
      reverifyAfterMs: vars.REVERIFY_AFTER,
      messages: {
        declined: vars.LOGIN_MESSAGE_DECLINED,
        verificationRequired: vars.LOGIN_MESSAGE_VERIFICATION_REQUIRED,
        reverificationRequired: vars.LOGIN_MESSAGE_REVERIFICATION_REQUIRED,
        unavailable: vars.LOGIN_MESSAGE_UNAVAILABLE,
      },
    },
    metrics: { tokens: vars.METRICS_TOKEN, port: vars.METRICS_PORT },
    reconcile: {
      intervalMs: vars.RECONCILE_INTERVAL,
      windowMs: vars.RECONCILE_WINDOW,
    },
    start: {
      publicBaseUrl: vars.PUBLIC_BASE_URL,
      returnToAllowlist: vars.RETURN_TO_ALLOWLIST,
      defaultReturnTo: vars.DEFAULT_RETURN_TO,
      linkSigningKeys:
        vars.LINK_SIGNING_SECRET?.map((secret) => Buffer.from(secret)) ?? vars.ORY_WEBHOOK_SECRET.map(deriveLinkKey),
      linkTtlMs: vars.SIGNED_LINK_TTL,
      allowRetries: vars.ALLOW_RETRIES,
      loginUrl: vars.LOGIN_URL,
      supportUrl: vars.SUPPORT_URL,
    },
  });
}

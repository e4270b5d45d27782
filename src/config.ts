import { hkdfSync } from 'node:crypto';
import { z } from 'zod';
import { TIMER_MAX_MS, formatDuration, parseDuration } from './duration.js';
import { MISMATCH_ACTIONS, type MismatchAction } from './matching/attributeMatch.js';
import { RULE_SETS, type RuleSet } from './matching/ruleSets.js';
import { personaEnvironment, type PersonaEnvironment } from './persona/apiKey.js';
import { VERIFIED_ATTRIBUTES, type VerifiedAttribute } from './persona/verifiedDocument.js';
import { EVENT_TYPES, NEEDS_ACTION, isEventType, type EventType } from './notifications/eventTypes.js';
import { isPlainHttpOffMachine } from './security/loopback.js';
import {
  SECRET_MIN_LENGTH,
  isPlaceholder,
  isPlaceholderCredential,
  secretProblem,
  sharedSecrets,
  type SecretProblem,
} from './security/secretPolicy.js';
import { SELF_SERVICE_LINK_MAX_TTL_SECONDS } from './security/signedLink.js';

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

/** A Persona field or attribute and the trait it corresponds to (PERSONA_PREFILL_FIELDS, ATTRIBUTE_MATCH). */
export interface TraitMapping {
  /** Persona's name for it, e.g. `name-first`. */
  field: string;
  /** Path into the Kratos traits, e.g. `['name', 'first']`. */
  traitPath: string[];
}

/** ATTRIBUTE_MATCH and its rules: which verified attributes are compared with which traits, and how. */
export interface AttributeMatchConfig {
  attributes: (TraitMapping & { field: VerifiedAttribute })[];
  rules: RuleSet;
  onMismatch: MismatchAction;
}

export interface Config {
  port: number;
  host: string;
  /** NODE_ENV; `production` refuses plain-http public addresses. */
  environment: string | undefined;
  /** Limits that cut slow and idle clients off (src/http/httpServer.ts). */
  http: HttpLimits;
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
    /** From the API key's prefix. */
    environment: PersonaEnvironment;
    version: string;
    /** The first template creates inquiries; all of them are accepted in webhooks. */
    templateIds: string[];
    webhookSecrets: string[];
    signatureToleranceSeconds: number;
    prefillFields: TraitMapping[];
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
    /** Compare the verified document with the traits on approval; off when ATTRIBUTE_MATCH is unset. */
    attributeMatch: AttributeMatchConfig | undefined;
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
  /** Postgres coordination (several replicas); undefined: single-instance mode. */
  database: DatabaseConfig | undefined;
  /** The admin API (src/admin/): off unless ADMIN_API_TOKEN is set. */
  admin:
    | {
        /** Bearer token(s) every admin route requires; several during rotation. */
        tokens: string[];
        /** Serve the admin API on this port only; undefined: on PORT, beside the public routes. */
        port: number | undefined;
      }
    | undefined;
  reconcile: {
    /** How often the service reconciles in-process; undefined: never (run `npm run reconcile`). */
    intervalMs: number | undefined;
    /** How far back each in-process run looks. */
    windowMs: number;
  };
  /** Redaction of Persona data (README, "Privacy"). */
  privacy: {
    /** How often the leader runs the redaction sweeps in-process; undefined: never (run `npm run admin -- redaction-sweep`). */
    sweepIntervalMs: number | undefined;
    /** How long an identity must be missing from Kratos before its Persona data is redacted; undefined: off. */
    redactDeletedAfterMs: number | undefined;
    /** How long after its decision (or last change) an inquiry is kept at Persona; undefined: for ever. */
    retentionMs: number | undefined;
  };
  /** Step-up before settings changes (POST /persona/settings) and `/persona/status?max_age`. */
  stepUp: {
    /** How old the latest approval may be for a settings change to pass. */
    maxAgeMs: number;
    /** Trait paths whose change through the profile method needs a fresh verification; empty: any change. */
    traits: string[];
    /** Step-up inquiries' template; without it no step-up is offered (never one of PERSONA_TEMPLATE_ID). */
    templateId: string | undefined;
    /** STEP_UP_MESSAGE: the operator's text of 4100006, in every language; unset: the catalogue's. */
    message: string | undefined;
  };
  /** Recovery by verification (`/persona/recover`), off unless enabled. */
  recovery: {
    enabled: boolean;
    templateId: string | undefined;
    /** Delete the identity's second factors (TOTP, lookup secrets, WebAuthn keys) before the code is issued. */
    removeSecondFactors: boolean;
    /** Recovery inquiries this replica opens in a minute at most (each spends Persona's creation quota). */
    inquiriesPerMinute: number;
  };
  notifications: NotificationsConfig;
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

export interface HttpLimits {
  /** From the connection's start until the request's headers are complete (idle connections too). */
  headersTimeoutMs: number;
  /** Until the whole request, body included, is received. */
  requestTimeoutMs: number;
  /** The longest pause between two pieces of a request body. */
  bodyIdleTimeoutMs: number;
  /** How long a connection may wait for its next request. */
  keepAliveTimeoutMs: number;
  maxConnections: number;
}

export interface DatabaseConfig {
  /** Carries the password: never logged. */
  url: string;
  /** The schema of the service's own tables. */
  schema: string;
  poolSize: number;
}

/** Where notifications go (README, "Notifications"); each channel undefined when not configured. */
export interface NotificationsConfig {
  webhooks: { urls: string[]; secrets: string[]; events: ReadonlySet<EventType> } | undefined;
  slack: { url: string; events: ReadonlySet<EventType> } | undefined;
  serviceNow: { instanceUrl: string; username: string; password: string; events: ReadonlySet<EventType> } | undefined;
  email: { smtpUrl: string; from: string; minIntervalMs: number } | undefined;
  /** How long a notification is retried before it is given up. */
  retryForMs: number;
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

const SECRET_PROBLEMS: Record<SecretProblem, string> = {
  too_short: `every secret must be at least ${SECRET_MIN_LENGTH} characters`,
  shipped_example: 'holds a placeholder or an example value published with ory-persona-idv',
  too_little_variety:
    'holds a secret with too little variety (a repeated pattern, or fewer than 6 different characters)',
};

/** A comma-separated list of secrets (several while rotating); `howToGet` says where a good one comes from. */
const secretList = (howToGet: string) =>
  z
    .string()
    .transform(splitList)
    .superRefine((secrets, context) => {
      if (secrets.length === 0) context.addIssue({ code: 'custom', message: 'must contain at least one secret' });
      const problems = new Set(secrets.map(secretProblem).filter((problem) => problem !== undefined));
      for (const problem of problems)
        context.addIssue({ code: 'custom', message: `${SECRET_PROBLEMS[problem]}: ${howToGet}` });
    });

const GENERATE_SECRET = 'generate one with `openssl rand -hex 32`';

const integer = (min: number, max: number, fallback: number) =>
  z
    .string()
    .regex(/^\d+$/, `must be a whole number between ${min} and ${max}`)
    .transform(Number)
    .refine((value) => value >= min && value <= max, `must be between ${min} and ${max}`)
    .prefault(String(fallback));

/** A duration such as `15m` between `min` and `max` (both written the same way), in milliseconds. */
const duration = (min: string, max: string) => {
  const [minMs, maxMs] = [parseDuration(min) as number, parseDuration(max) as number];
  return z.string().transform((text, context) => {
    const ms = parseDuration(text);
    if (ms === undefined) {
      context.addIssue({ code: 'custom', message: 'must be a duration such as 30m, 24h or 365d' });
      return z.NEVER;
    }
    if (ms < minMs || ms > maxMs) {
      context.addIssue({ code: 'custom', message: `must be between ${min} and ${max}` });
      return z.NEVER;
    }
    return ms;
  });
};

/** `off` (undefined), or what `schema` reads. */
const offOr = (schema: z.ZodType<number, string>) =>
  z.string().transform((text, context) => {
    if (text.trim() === 'off') return undefined;
    const parsed = schema.safeParse(text);
    if (parsed.success) return parsed.data;
    for (const issue of parsed.error.issues)
      context.addIssue({ code: 'custom', message: `must be off, or ${issue.message.replace(/^must be /, '')}` });
    return z.NEVER;
  });

/** A duration a timer (setTimeout, setInterval, socket timeouts) waits: never beyond what it holds. */
const timerDuration = (min: string, max: string) => {
  if ((parseDuration(max) as number) > TIMER_MAX_MS)
    throw new Error(`a timer cannot wait ${max}; the longest is ${formatDuration(TIMER_MAX_MS)}`);
  return duration(min, max);
};

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
const TEMPLATE_ID = /^(?:itmpl|tmpl)_[A-Za-z0-9]+$/;

const templateId = z.string().trim().regex(TEMPLATE_ID, 'must be an inquiry template id (itmpl_...)');
const PERSONA_FIELD = /^[a-z0-9_-]+$/;

const traitMappings = z.string().transform((text, context) => {
  const mappings: TraitMapping[] = [];
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
});

const isVerifiedAttribute = (field: string): field is VerifiedAttribute =>
  (VERIFIED_ATTRIBUTES as readonly string[]).includes(field);

const attributeMappings = traitMappings
  .refine(
    (mappings) => mappings.length > 0 && mappings.every(({ field }) => isVerifiedAttribute(field)),
    `must map verified attributes (${VERIFIED_ATTRIBUTES.join(', ')}) to trait paths, e.g. name-first=name.first,birthdate=birthdate`,
  )
  .refine(
    (mappings) => new Set(mappings.map(({ field }) => field)).size === mappings.length,
    'must name each verified attribute once',
  )
  .transform((mappings) => mappings as AttributeMatchConfig['attributes'])
  .optional();

const flag = (fallback: 'true' | 'false') =>
  z
    .enum(['true', 'false'], { message: 'must be true or false' })
    .default(fallback)
    .transform((value) => value === 'true');

const isPostgresUrl = (text: string) => {
  try {
    const url = new URL(text);
    return (url.protocol === 'postgres:' || url.protocol === 'postgresql:') && url.hostname !== '';
  } catch {
    return false;
  }
};

/** The variables of the Postgres coordination, also read alone by the migrate command. */
const databaseShape = {
  DATABASE_URL: z
    .string()
    .trim()
    .refine(isPostgresUrl, 'must be a postgres:// or postgresql:// URL with a host')
    .optional(),
  DATABASE_SCHEMA: z
    .string()
    .regex(/^(?!pg_)[a-z_][a-z0-9_]{0,62}$/, 'must be a lower-case SQL name such as persona_idv, not starting with pg_')
    // Kratos keeps its tables in `public` when it shares the database: ours stay apart.
    .refine((schema) => schema !== 'public', 'must be a schema of its own, not public')
    .default('persona_idv'),
  DATABASE_POOL_SIZE: integer(1, 100, 10),
};

const messageOverride = z.string().max(500, 'must be at most 500 characters').optional();

/**
 * Statuses that are never a final approval (reference/persona-api.md, "Statuses and events"):
 * the inquiry is still open, or it failed. Statuses Persona adds later are allowed.
 */
const NEVER_APPROVED = ['created', 'pending', 'expired', 'needs_review', 'failed', 'declined'];
/** Final only where no Persona Workflow or reviewer decides after completion: an explicit opt-in. */
const COMPLETED = 'completed';

/**
 * Every secret the service holds, so that no two share a value. A new secret joins the check
 * with one line here.
 */
export const SECRET_VARIABLES = [
  'ORY_WEBHOOK_SECRET',
  'PERSONA_WEBHOOK_SECRET',
  'LINK_SIGNING_SECRET',
  'METRICS_TOKEN',
  'NOTIFY_WEBHOOK_SECRET',
  'SERVICENOW_PASSWORD',
  'SMTP_PASSWORD',
  'ADMIN_API_TOKEN',
] as const;

/** Addresses users' browsers are sent to: https in production, unless they stay on this machine. */
const PUBLIC_ADDRESS_VARIABLES = [
  'PUBLIC_BASE_URL',
  'RETURN_TO_ALLOWLIST',
  'DEFAULT_RETURN_TO',
  'LOGIN_URL',
  'SUPPORT_URL',
  'PERSONA_HOSTED_FLOW_URL',
] as const;

const eventList = (fallback: readonly EventType[]) =>
  z
    .string()
    .transform(splitList)
    .refine(
      (names) => names.length > 0 && names.every(isEventType),
      `must be a comma-separated list of ${EVENT_TYPES.join(', ')}`,
    )
    .transform((names) => new Set(names as EventType[]))
    .prefault(fallback.join(','));

/** Standard Webhooks' symmetric secret: `whsec_` and base64 of 24 to 64 random bytes. */
const isWebhookSigningSecret = (secret: string) => {
  const match = /^whsec_([A-Za-z0-9+/]+={0,2})$/.exec(secret);
  const length = match?.[1] === undefined ? 0 : Buffer.from(match[1], 'base64').length;
  return length >= 24 && length <= 64;
};

const smtpUrl = z
  .string()
  .trim()
  .refine((text) => {
    try {
      const url = new URL(text);
      return (url.protocol === 'smtp:' || url.protocol === 'smtps:') && url.hostname !== '';
    } catch {
      return false;
    }
  }, 'must be an smtp:// or smtps:// URL');

/** The password in SMTP_URL, so the secret policy sees it like every other secret. */
const smtpPasswordOf = (url: string | undefined) => {
  if (url === undefined) return undefined;
  const password = decodeURIComponent(new URL(url).password);
  return password === '' ? undefined : [password];
};

const port = z
  .string()
  .regex(/^\d+$/, 'must be a port number')
  .transform(Number)
  .refine((value) => value >= 1 && value <= 65_535, 'must be between 1 and 65535');

const envSchema = z
  .object({
    PORT: integer(1, 65_535, 3000),
    HOST: z.string().default('0.0.0.0'),
    LOG_LEVEL: z.enum(LOG_LEVELS, { message: `must be one of ${LOG_LEVELS.join(', ')}` }).default('info'),
    ORY_WEBHOOK_SECRET: secretList(GENERATE_SECRET),
    KRATOS_ADMIN_URL: httpUrl,
    KRATOS_PUBLIC_URL: httpUrl.optional(),
    ORY_API_KEY: z
      .string()
      .refine(
        (key) => !isPlaceholderCredential(key),
        'is a placeholder: use a project API key (ory_pat_...) or remove the variable for self-hosted Kratos',
      )
      .optional(),
    KRATOS_TIMEOUT_MS: integer(100, 30_000, 2_000),
    PERSONA_API_KEY: z
      .string()
      .trim()
      .transform((key, context) => {
        const placeholder = isPlaceholderCredential(key);
        const environment = personaEnvironment(key);
        if (!placeholder && environment !== undefined) return { key, environment };
        context.addIssue({
          code: 'custom',
          message: placeholder
            ? "is a placeholder: copy the API key from Persona's dashboard"
            : 'must be a Persona API key, persona_sandbox_... or persona_production_... (Persona dashboard, API keys)',
        });
        return z.NEVER;
      }),
    PERSONA_API_BASE: httpUrl.default('https://api.withpersona.com/api/v1'),
    PERSONA_VERSION: z
      .string()
      .regex(/^\d{4}-\d{2}-\d{2}$/, 'must be a Persona API version date such as 2025-12-08')
      .default(DEFAULT_PERSONA_VERSION),
    PERSONA_TEMPLATE_ID: z
      .string()
      .transform(splitList)
      .refine(
        (ids) => ids.length > 0 && ids.every((id) => TEMPLATE_ID.test(id)),
        'must be one or more inquiry template ids (itmpl_...), comma-separated',
      ),
    PERSONA_WEBHOOK_SECRET: secretList("copy the webhook's secret (wbhsec_...) from the Persona dashboard"),
    // Persona stamps each delivery when it sends it (reference/persona-api.md, "Webhooks"), so the
    // tolerance covers clock skew and transit, not retries: minutes, never hours.
    PERSONA_WEBHOOK_TOLERANCE_SECONDS: integer(30, 900, 300),
    PERSONA_TIMEOUT_MS: integer(100, 30_000, 4_000),
    PERSONA_PREFILL_FIELDS: traitMappings.default([]),
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
    ATTRIBUTE_MATCH: attributeMappings,
    ATTRIBUTE_MATCH_RULES: z.enum(RULE_SETS, { message: `must be one of ${RULE_SETS.join(', ')}` }).default('relaxed'),
    ATTRIBUTE_MISMATCH_ACTION: z
      .enum(MISMATCH_ACTIONS, { message: `must be one of ${MISMATCH_ACTIONS.join(', ')}` })
      .default('review'),
    LOGIN_POLICY: z
      .enum(LOGIN_POLICIES, { message: `must be one of ${LOGIN_POLICIES.join(', ')}` })
      .default('block-declined'),
    LOGIN_GRACE_PERIOD: duration('1m', '30d').optional(),
    REVERIFY_AFTER: duration('1h', '3650d').optional(),
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
    LINK_SIGNING_SECRET: secretList(GENERATE_SECRET).optional(),
    // Anyone holding a signed link can continue that identity's verification until it expires.
    SIGNED_LINK_TTL: duration('1m', formatDuration(SELF_SERVICE_LINK_MAX_TTL_SECONDS * 1_000)).prefault('15m'),
    ALLOW_RETRIES: flag('false'),
    LOGIN_URL: httpUrl.optional(),
    SUPPORT_URL: httpUrl.optional(),
    RECONCILE_INTERVAL: timerDuration('1m', '7d').optional(),
    METRICS_TOKEN: secretList(GENERATE_SECRET).optional(),
    METRICS_PORT: port.optional(),
    // Each in-process run reads every inquiry created in the window, and its identity, again: a year
    // read every minute would spend Persona's and Kratos's rate limits on nothing. Longer looks back
    // are a one-off `reconcile --since`.
    RECONCILE_WINDOW: duration('1h', '7d').prefault('48h'),
    REDACTION_SWEEP_INTERVAL: timerDuration('1m', '7d').optional(),
    // An identity deleted by mistake can be restored (from a backup) within this time.
    REDACT_DELETED_AFTER: offOr(duration('1h', '365d')).prefault('7d'),
    PERSONA_RETENTION: duration('1d', '3650d').optional(),
    PERSONA_COMPLETED_IS_FINAL: flag('false'),
    NOTIFY_WEBHOOK_URLS: z
      .string()
      .transform(splitList)
      .refine((urls) => urls.length > 0 && urls.every(isHttpUrl), 'must be a comma-separated list of http(s) URLs')
      .optional(),
    NOTIFY_WEBHOOK_SECRET: secretList('generate one with `echo whsec_$(openssl rand -base64 32)`')
      .refine(
        (secrets) => secrets.every(isWebhookSigningSecret),
        'must be Standard Webhooks secrets: whsec_ and base64 of 24 to 64 random bytes (`echo whsec_$(openssl rand -base64 32)`)',
      )
      .optional(),
    NOTIFY_EVENTS: eventList(EVENT_TYPES),
    NOTIFY_RETRY_FOR: duration('1m', '7d').prefault('3d'),
    SLACK_WEBHOOK_URL: httpUrl.optional(),
    SLACK_EVENTS: eventList(NEEDS_ACTION),
    SERVICENOW_INSTANCE_URL: httpUrl.optional(),
    SERVICENOW_USERNAME: z.string().optional(),
    SERVICENOW_PASSWORD: secretList('give the integration user a generated password')
      .refine((passwords) => passwords.length === 1, 'must be one password')
      .transform((passwords) => passwords[0] as string)
      .optional(),
    SERVICENOW_EVENTS: eventList(NEEDS_ACTION),
    SMTP_URL: smtpUrl.optional(),
    EMAIL_FROM: z
      .string()
      .trim()
      .refine((from) => /^[^\r\n]*@[^\r\n]*$/.test(from), 'must be an address such as "Example <idv@example.com>"')
      .optional(),
    // An emailed link stays valid at least this long, so it is bounded like SIGNED_LINK_TTL.
    EMAIL_MIN_INTERVAL: duration('1s', '24h').prefault('1h'),
    NODE_ENV: z.string().optional(),
    HTTP_HEADERS_TIMEOUT: timerDuration('1s', '5m').prefault('10s'),
    HTTP_REQUEST_TIMEOUT: timerDuration('1s', '10m').prefault('30s'),
    HTTP_BODY_IDLE_TIMEOUT: timerDuration('1s', '5m').prefault('5s'),
    HTTP_KEEP_ALIVE_TIMEOUT: timerDuration('1s', '10m').prefault('5s'),
    // Above the 96 places bodies without credentials may hold (callback, recovery form and short
    // code entry, 32 each), so that at the cap there is always an idle connection to close for a newcomer.
    HTTP_MAX_CONNECTIONS: integer(128, 100_000, 1_000),
    STEP_UP_MAX_AGE: duration('1m', '30d').prefault('15m'),
    STEP_UP_TRAITS: z
      .string()
      .transform(splitList)
      .refine(
        (paths) => paths.every((path) => TRAIT_PATH.test(path)),
        'must be a comma-separated list of trait paths such as name.last,birthdate',
      )
      .default([]),
    STEP_UP_MESSAGE: messageOverride,
    PERSONA_STEP_UP_TEMPLATE_ID: templateId.optional(),
    RECOVERY_BY_VERIFICATION: flag('false'),
    PERSONA_RECOVERY_TEMPLATE_ID: templateId.optional(),
    RECOVERY_REMOVE_SECOND_FACTORS: flag('false'),
    RECOVERY_INQUIRIES_PER_MINUTE: integer(1, 1_000, 10),
    ...databaseShape,
    ADMIN_API_TOKEN: secretList(GENERATE_SECRET).optional(),
    ADMIN_PORT: port.optional(),
  })
  // Zod skips refinements once any variable is refused; these run anyway, so that every problem
  // is reported at once.
  .superRefine(checkAcrossVariables, { when: () => true });

type Env = z.output<typeof envSchema>;

/** A check across variables, reported on one of them. */
interface CrossCheck {
  /** The variables it reads: it runs only when each of them is valid on its own. */
  reads: readonly (keyof Env)[];
  check(env: Env, problem: (variable: keyof Env, message: string) => void): void;
}

const HTTPS_IN_PRODUCTION = 'must use https when NODE_ENV=production (plain http only for loopback addresses)';

/** `needed` must be set when `variable` is. */
const requires = (variable: keyof Env, needed: keyof Env, because: string): CrossCheck => ({
  reads: [variable, needed],
  check(env, problem) {
    if (env[variable] !== undefined && !env[needed]) problem(needed, `is required with ${variable}: ${because}`);
  },
});

const CROSS_CHECKS: readonly CrossCheck[] = [
  {
    // A template names the purpose of its inquiries: one template for two purposes would let a
    // step-up or recovery inquiry decide the identity's standing decision, or the other way round.
    reads: ['PERSONA_TEMPLATE_ID', 'PERSONA_STEP_UP_TEMPLATE_ID', 'PERSONA_RECOVERY_TEMPLATE_ID'],
    check(env, problem) {
      const deciding = new Set(env.PERSONA_TEMPLATE_ID);
      for (const name of ['PERSONA_STEP_UP_TEMPLATE_ID', 'PERSONA_RECOVERY_TEMPLATE_ID'] as const) {
        const id = env[name];
        if (id !== undefined && deciding.has(id)) problem(name, 'must not be one of PERSONA_TEMPLATE_ID');
      }
      if (
        env.PERSONA_STEP_UP_TEMPLATE_ID !== undefined &&
        env.PERSONA_STEP_UP_TEMPLATE_ID === env.PERSONA_RECOVERY_TEMPLATE_ID
      )
        problem('PERSONA_RECOVERY_TEMPLATE_ID', 'must differ from PERSONA_STEP_UP_TEMPLATE_ID');
    },
  },
  {
    reads: ['RECOVERY_BY_VERIFICATION', 'PERSONA_RECOVERY_TEMPLATE_ID', 'PUBLIC_BASE_URL'],
    check(env, problem) {
      if (!env.RECOVERY_BY_VERIFICATION) return;
      for (const name of ['PERSONA_RECOVERY_TEMPLATE_ID', 'PUBLIC_BASE_URL'] as const) {
        if (env[name] === undefined) problem(name, 'is required with RECOVERY_BY_VERIFICATION=true');
      }
      // The recovery's cookie is __Host-, which browsers accept only from a secure origin.
      if (env.PUBLIC_BASE_URL !== undefined && isPlainHttpOffMachine(env.PUBLIC_BASE_URL))
        problem(
          'PUBLIC_BASE_URL',
          'must use https with RECOVERY_BY_VERIFICATION=true (plain http only for loopback addresses)',
        );
    },
  },
  {
    reads: ['PERSONA_APPROVED_STATUSES', 'PERSONA_DECLINED_STATUSES'],
    check(env, problem) {
      if (env.PERSONA_APPROVED_STATUSES.some((status) => env.PERSONA_DECLINED_STATUSES.includes(status)))
        problem('PERSONA_DECLINED_STATUSES', 'must not share a status with PERSONA_APPROVED_STATUSES');
    },
  },
  {
    reads: ['PERSONA_APPROVED_STATUSES', 'PERSONA_COMPLETED_IS_FINAL'],
    check(env, problem) {
      const notFinal = env.PERSONA_APPROVED_STATUSES.filter((status) => NEVER_APPROVED.includes(status));
      if (notFinal.length > 0)
        problem(
          'PERSONA_APPROVED_STATUSES',
          `must list final approvals only, not ${notFinal.join(', ')} (an open, failed or declined inquiry is never approved)`,
        );
      if (env.PERSONA_APPROVED_STATUSES.includes(COMPLETED) && !env.PERSONA_COMPLETED_IS_FINAL)
        problem(
          'PERSONA_APPROVED_STATUSES',
          'lists completed, which a Persona Workflow or reviewer may still decline: set PERSONA_COMPLETED_IS_FINAL=true only if none decides after completion',
        );
    },
  },
  {
    // SMTP_PASSWORD is the password in SMTP_URL, reported on SMTP_URL.
    reads: [...SECRET_VARIABLES.filter((name) => name !== 'SMTP_PASSWORD'), 'SMTP_URL'] as (keyof Env)[],
    check(env, problem) {
      const secrets = {
        ...env,
        SERVICENOW_PASSWORD: [env.SERVICENOW_PASSWORD ?? ''],
        SMTP_PASSWORD: smtpPasswordOf(env.SMTP_URL),
      };
      const reported = (name: string) => (name === 'SMTP_PASSWORD' ? 'SMTP_URL' : name) as keyof Env;
      for (const { variable, sharesWith } of sharedSecrets(SECRET_VARIABLES.map((name) => [name, secrets[name]])))
        problem(reported(variable), `must not reuse a value of ${reported(sharesWith)}: every secret needs its own`);
    },
  },
  {
    reads: ['SMTP_URL'],
    check(env, problem) {
      const problems = (smtpPasswordOf(env.SMTP_URL) ?? []).map(secretProblem);
      for (const found of new Set(problems.filter((each) => each !== undefined)))
        problem('SMTP_URL', `its password ${SECRET_PROBLEMS[found].replace('every secret ', '')}: use a generated one`);
    },
  },
  requires('NOTIFY_WEBHOOK_URLS', 'NOTIFY_WEBHOOK_SECRET', 'it signs them'),
  requires('SERVICENOW_INSTANCE_URL', 'SERVICENOW_USERNAME', 'the Table API needs credentials'),
  requires('SERVICENOW_INSTANCE_URL', 'SERVICENOW_PASSWORD', 'the Table API needs credentials'),
  requires('SMTP_URL', 'EMAIL_FROM', 'emails need a sender'),
  requires('SMTP_URL', 'PUBLIC_BASE_URL', 'emails carry links to this service'),
  {
    reads: ['NODE_ENV', 'SERVICENOW_INSTANCE_URL'],
    check(env, problem) {
      if (
        env.NODE_ENV === 'production' &&
        env.SERVICENOW_INSTANCE_URL !== undefined &&
        isPlainHttpOffMachine(env.SERVICENOW_INSTANCE_URL)
      )
        problem(
          'SERVICENOW_INSTANCE_URL',
          'must use https when NODE_ENV=production: basic authentication sends the password',
        );
    },
  },
  {
    reads: ['NODE_ENV', ...PUBLIC_ADDRESS_VARIABLES],
    check(env, problem) {
      if (env.NODE_ENV !== 'production') return;
      for (const variable of PUBLIC_ADDRESS_VARIABLES) {
        const urls = ([] as (string | undefined)[]).concat(env[variable]);
        if (urls.some((url) => url !== undefined && isPlainHttpOffMachine(url))) problem(variable, HTTPS_IN_PRODUCTION);
      }
    },
  },
  {
    // The API key goes with every call. A sandbox key may reach a stand-in on another host (the
    // compose example); a key of any other environment crosses no network in the clear.
    reads: ['NODE_ENV', 'PERSONA_API_BASE', 'PERSONA_API_KEY'],
    check(env, problem) {
      if (
        env.NODE_ENV === 'production' &&
        isPlainHttpOffMachine(env.PERSONA_API_BASE) &&
        env.PERSONA_API_KEY.environment !== 'sandbox'
      )
        problem('PERSONA_API_BASE', `${HTTPS_IN_PRODUCTION}, unless PERSONA_API_KEY is a sandbox key`);
    },
  },
  {
    // With ORY_API_KEY, Kratos is Ory Network (or behind a gateway), across a network: the key
    // goes to the admin API, users' session cookies and tokens to the public one.
    reads: ['NODE_ENV', 'ORY_API_KEY', 'KRATOS_ADMIN_URL', 'KRATOS_PUBLIC_URL'],
    check(env, problem) {
      if (env.NODE_ENV !== 'production' || env.ORY_API_KEY === undefined) return;
      for (const variable of ['KRATOS_ADMIN_URL', 'KRATOS_PUBLIC_URL'] as const) {
        const url = env[variable];
        if (url !== undefined && isPlainHttpOffMachine(url))
          problem(variable, `${HTTPS_IN_PRODUCTION} while ORY_API_KEY is set`);
      }
    },
  },
  {
    reads: ['HTTP_HEADERS_TIMEOUT', 'HTTP_REQUEST_TIMEOUT'],
    check(env, problem) {
      if (env.HTTP_HEADERS_TIMEOUT > env.HTTP_REQUEST_TIMEOUT)
        problem('HTTP_HEADERS_TIMEOUT', 'must not be longer than HTTP_REQUEST_TIMEOUT');
    },
  },
  {
    // A comparison's decline is written as Persona's own status of that name, which the login gate
    // must read as declined (needs_review, which a review writes, is never an approved status).
    reads: ['ATTRIBUTE_MATCH', 'ATTRIBUTE_MISMATCH_ACTION', 'PERSONA_DECLINED_STATUSES'],
    check(env, problem) {
      if (
        env.ATTRIBUTE_MATCH !== undefined &&
        env.ATTRIBUTE_MISMATCH_ACTION === 'decline' &&
        !env.PERSONA_DECLINED_STATUSES.includes('declined')
      )
        problem('PERSONA_DECLINED_STATUSES', 'must include declined while ATTRIBUTE_MISMATCH_ACTION is decline');
    },
  },
  {
    // A review holds an inquiry's first approval and counts its next one as a reviewer's; with
    // completed counted as an approval, a Workflow's automatic approval after completion would be
    // that next one, and nobody would have looked.
    reads: ['ATTRIBUTE_MATCH', 'ATTRIBUTE_MISMATCH_ACTION', 'PERSONA_APPROVED_STATUSES'],
    check(env, problem) {
      if (
        env.ATTRIBUTE_MATCH !== undefined &&
        env.ATTRIBUTE_MISMATCH_ACTION === 'review' &&
        env.PERSONA_APPROVED_STATUSES.includes(COMPLETED)
      )
        problem(
          'ATTRIBUTE_MISMATCH_ACTION',
          'must not be review (the default) while PERSONA_APPROVED_STATUSES lists completed: an approval after completion would lift the review without a reviewer; choose decline or flag, or leave completed out',
        );
    },
  },
  {
    reads: ['ADMIN_PORT', 'ADMIN_API_TOKEN'],
    check(env, problem) {
      if (env.ADMIN_PORT !== undefined && env.ADMIN_API_TOKEN === undefined)
        problem('ADMIN_PORT', 'is set, but the admin API is off without ADMIN_API_TOKEN');
    },
  },
  {
    reads: ['ADMIN_PORT', 'PORT', 'METRICS_PORT'],
    check(env, problem) {
      if (env.ADMIN_PORT !== undefined && (env.ADMIN_PORT === env.PORT || env.ADMIN_PORT === env.METRICS_PORT))
        problem('ADMIN_PORT', 'must differ from PORT and METRICS_PORT');
    },
  },
];

/** The checks across variables, each run only when every variable it reads is valid on its own. */
function checkAcrossVariables(env: Env, context: z.RefinementCtx<Env>): void {
  // Variables refused on their own: a check reading one would judge a value that is not there.
  const refused = new Set(context.issues.map((issue) => issue.path?.[0]));
  for (const { reads, check } of CROSS_CHECKS) {
    if (reads.some((variable) => refused.has(variable))) continue;
    check(env, (variable, message) => context.addIssue({ code: 'custom', path: [variable], message }));
  }
}

/**
 * Without LINK_SIGNING_SECRET the link key is derived from the webhook secret, so that the secret
 * Kratos holds is never itself the key of links shown to users.
 */
const deriveLinkKey = (secret: string) =>
  Buffer.from(hkdfSync('sha256', secret, 'ory-persona-idv', 'signed start links', 32));

/** Every variable the service reads, for the `.env.example` check and the README. */
export const CONFIG_VARIABLES = Object.keys(envSchema.shape);

/** A value copied from an example and never filled in: named alone, when nothing else is wrong with it. */
const PLACEHOLDER_PROBLEM = 'holds a placeholder copied from an example: set your own value';

/**
 * Parses `env` with `schema`, or throws every problem at once. Problems name the variable, never
 * its value, because values are secrets more often than not. Empty values count as unset. Any
 * variable may hold a placeholder from the shipped examples (deploy/kubernetes/, .env.example):
 * the service would start and fail every user, so it is refused like a malformed value.
 */
function parseEnv<T extends z.ZodObject>(schema: T, env: Record<string, string | undefined>): z.output<T> {
  const present = Object.fromEntries(
    Object.entries(env).filter((entry): entry is [string, string] => entry[1] !== undefined && entry[1].trim() !== ''),
  );
  const result = schema.safeParse(present);
  const problems = (result.error?.issues ?? []).map((issue) => {
    const name = String(issue.path[0] ?? 'environment');
    return issue.code === 'invalid_type' && present[name] === undefined
      ? `${name}: is required`
      : `${name}: ${issue.message}`;
  });
  const reported = new Set(problems.map((problem) => problem.split(':')[0]));
  for (const name of Object.keys(schema.shape)) {
    const value = present[name];
    if (value !== undefined && !reported.has(name) && isPlaceholder(value))
      problems.push(`${name}: ${PLACEHOLDER_PROBLEM}`);
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return result.data as z.output<T>;
}

const databaseOf = (vars: z.output<z.ZodObject<typeof databaseShape>>): DatabaseConfig | undefined =>
  vars.DATABASE_URL === undefined
    ? undefined
    : { url: vars.DATABASE_URL, schema: vars.DATABASE_SCHEMA, poolSize: vars.DATABASE_POOL_SIZE };

/** The database variables alone (the migrate command needs no Kratos or Persona settings). */
export function loadDatabaseConfig(env: Record<string, string | undefined>): DatabaseConfig | undefined {
  return databaseOf(parseEnv(z.object(databaseShape), env));
}

/** Validates the whole environment at once. */
export function loadConfig(env: Record<string, string | undefined>): Readonly<Config> {
  const vars = parseEnv(envSchema, env);
  return Object.freeze({
    port: vars.PORT,
    host: vars.HOST,
    environment: vars.NODE_ENV,
    http: {
      headersTimeoutMs: vars.HTTP_HEADERS_TIMEOUT,
      requestTimeoutMs: vars.HTTP_REQUEST_TIMEOUT,
      bodyIdleTimeoutMs: vars.HTTP_BODY_IDLE_TIMEOUT,
      keepAliveTimeoutMs: vars.HTTP_KEEP_ALIVE_TIMEOUT,
      maxConnections: vars.HTTP_MAX_CONNECTIONS,
    },
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
      apiKey: vars.PERSONA_API_KEY.key,
      environment: vars.PERSONA_API_KEY.environment,
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
      attributeMatch:
        vars.ATTRIBUTE_MATCH === undefined
          ? undefined
          : {
              attributes: vars.ATTRIBUTE_MATCH,
              rules: vars.ATTRIBUTE_MATCH_RULES,
              onMismatch: vars.ATTRIBUTE_MISMATCH_ACTION,
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
    database: databaseOf(vars),
    notifications: {
      webhooks:
        vars.NOTIFY_WEBHOOK_URLS === undefined
          ? undefined
          : { urls: vars.NOTIFY_WEBHOOK_URLS, secrets: vars.NOTIFY_WEBHOOK_SECRET ?? [], events: vars.NOTIFY_EVENTS },
      slack:
        vars.SLACK_WEBHOOK_URL === undefined ? undefined : { url: vars.SLACK_WEBHOOK_URL, events: vars.SLACK_EVENTS },
      serviceNow:
        vars.SERVICENOW_INSTANCE_URL === undefined
          ? undefined
          : {
              instanceUrl: vars.SERVICENOW_INSTANCE_URL,
              username: vars.SERVICENOW_USERNAME ?? '',
              password: vars.SERVICENOW_PASSWORD ?? '',
              events: vars.SERVICENOW_EVENTS,
            },
      email:
        vars.SMTP_URL === undefined
          ? undefined
          : { smtpUrl: vars.SMTP_URL, from: vars.EMAIL_FROM ?? '', minIntervalMs: vars.EMAIL_MIN_INTERVAL },
      retryForMs: vars.NOTIFY_RETRY_FOR,
    },
    admin: vars.ADMIN_API_TOKEN === undefined ? undefined : { tokens: vars.ADMIN_API_TOKEN, port: vars.ADMIN_PORT },
    reconcile: {
      intervalMs: vars.RECONCILE_INTERVAL,
      windowMs: vars.RECONCILE_WINDOW,
    },
    privacy: {
      sweepIntervalMs: vars.REDACTION_SWEEP_INTERVAL,
      redactDeletedAfterMs: vars.REDACT_DELETED_AFTER,
      retentionMs: vars.PERSONA_RETENTION,
    },
    stepUp: {
      maxAgeMs: vars.STEP_UP_MAX_AGE,
      traits: vars.STEP_UP_TRAITS,
      templateId: vars.PERSONA_STEP_UP_TEMPLATE_ID,
      message: vars.STEP_UP_MESSAGE,
    },
    recovery: {
      enabled: vars.RECOVERY_BY_VERIFICATION,
      templateId: vars.PERSONA_RECOVERY_TEMPLATE_ID,
      removeSecondFactors: vars.RECOVERY_REMOVE_SECOND_FACTORS,
      inquiriesPerMinute: vars.RECOVERY_INQUIRIES_PER_MINUTE,
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

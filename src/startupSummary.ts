import type { Config, InquiryType, LoginPolicyName } from './config.js';
import type { PersonaEnvironment } from './persona/apiKey.js';
import { formatDuration } from './duration.js';
import { METRICS_OFF_HINT, metricsExposure } from './routes/metrics.js';

/** A setting that quietly switches something off or has no effect, named so an operator can fix it. */
export interface StartupWarning {
  setting: string;
  message: string;
}

export interface StartupSummary {
  mode: 'single-instance' | 'postgres';
  loginPolicy: LoginPolicyName;
  inquiryType: InquiryType;
  /** From the API key's prefix: Persona's keys say which environment they belong to. */
  personaEnvironment: PersonaEnvironment;
  /** Each optional feature, `on: <why>` or `off: <why>`, naming the setting that decided it. */
  features: Record<string, string>;
  warnings: StartupWarning[];
}

type Settings = Readonly<Config>;

const on = (why: string) => `on: ${why}`;
const off = (why: string) => `off: ${why}`;
const requireApproved = (config: Settings) => config.login.policy === 'require-approved';
const notifying = ({ notifications }: Settings) =>
  notifications.webhooks !== undefined ||
  notifications.slack !== undefined ||
  notifications.serviceNow !== undefined ||
  notifications.email !== undefined;

/** One line per optional feature: add yours here. */
const FEATURES: Record<string, (config: Settings) => string> = {
  public_mirror: (config) =>
    config.record.publicMirror
      ? on('the login gate decides from metadata_public, without calling Kratos')
      : off('METADATA_PUBLIC_MIRROR=false: the login gate reads the admin record on every login'),
  revoke_sessions_on_decline: (config) =>
    config.record.onDecline.revokeSessions
      ? on('ON_DECLINE includes revoke_sessions')
      : off('ON_DECLINE leaves out revoke_sessions: a declined user keeps a session already open'),
  deactivate_on_decline: (config) =>
    config.record.onDecline.deactivate ? on('ON_DECLINE includes deactivate') : off('ON_DECLINE leaves out deactivate'),
  verify_links: (config) =>
    config.start.publicBaseUrl !== undefined
      ? on('PUBLIC_BASE_URL is set: block messages link to /persona/start')
      : off('PUBLIC_BASE_URL is unset'),
  return_to: (config) =>
    config.start.returnToAllowlist.length > 0 || config.start.defaultReturnTo !== undefined
      ? on('RETURN_TO_ALLOWLIST or DEFAULT_RETURN_TO is set')
      : off('RETURN_TO_ALLOWLIST and DEFAULT_RETURN_TO are unset'),
  grace_period: (config) =>
    !requireApproved(config)
      ? off('only with LOGIN_POLICY=require-approved')
      : config.login.gracePeriodMs !== undefined
        ? on('LOGIN_GRACE_PERIOD is set')
        : off('LOGIN_GRACE_PERIOD is unset'),
  reverification: (config) =>
    config.login.reverifyAfterMs !== undefined ? on('REVERIFY_AFTER is set') : off('REVERIFY_AFTER is unset'),
  sign_in_link: (config) =>
    config.start.loginUrl !== undefined
      ? on('LOGIN_URL is set: pages that ask users to sign in link to it')
      : off('LOGIN_URL is unset: pages that ask users to sign in have no link to do so'),
  support_link: (config) =>
    config.start.supportUrl !== undefined
      ? on('SUPPORT_URL is set: declined, failed and error pages link to it')
      : off('SUPPORT_URL is unset: declined, failed and error pages have no link to support'),
  retries: (config) =>
    config.start.allowRetries
      ? on('ALLOW_RETRIES=true: declined and failed users may start a new inquiry')
      : off('ALLOW_RETRIES is not true'),
  reconcile_schedule: (config) =>
    config.reconcile.intervalMs !== undefined
      ? on('RECONCILE_INTERVAL is set')
      : off('RECONCILE_INTERVAL is unset: run `node dist/reconcile.js` from a scheduler'),
  redaction_sweep: ({ privacy }) =>
    privacy.sweepIntervalMs === undefined
      ? off(
          'REDACTION_SWEEP_INTERVAL is unset: nothing is redacted but on request, unless `npm run admin -- redaction-sweep` runs from a scheduler',
        )
      : on(
          `REDACTION_SWEEP_INTERVAL is set: deleted identities ${privacy.redactDeletedAfterMs === undefined ? 'off (REDACT_DELETED_AFTER=off)' : `after ${formatDuration(privacy.redactDeletedAfterMs)}`}, retention ${privacy.retentionMs === undefined ? 'off (PERSONA_RETENTION unset)' : formatDuration(privacy.retentionMs)}`,
        ),
  attribute_match: (config) =>
    config.record.attributeMatch !== undefined
      ? on(
          `ATTRIBUTE_MATCH is set: approvals are compared with traits (${config.record.attributeMatch.rules}, on mismatch: ${config.record.attributeMatch.onMismatch})`,
        )
      : off("ATTRIBUTE_MATCH is unset: an approval is not compared with the account's traits"),
  step_up_template: (config) =>
    config.stepUp.templateId !== undefined
      ? on('PERSONA_STEP_UP_TEMPLATE_ID is set: step-ups are inquiries of their own template')
      : off(
          'PERSONA_STEP_UP_TEMPLATE_ID is unset: no step-up is offered, so a settings change that needs one is refused unless an approval is no older than STEP_UP_MAX_AGE',
        ),
  recovery_by_verification: (config) =>
    config.recovery.enabled
      ? on(
          `RECOVERY_BY_VERIFICATION=true: /persona/recover${config.recovery.removeSecondFactors ? ', second factors removed' : ''}`,
        )
      : off('RECOVERY_BY_VERIFICATION is not true'),
  notification_webhooks: (config) =>
    config.notifications.webhooks === undefined
      ? off('NOTIFY_WEBHOOK_URLS is unset')
      : on(
          `NOTIFY_WEBHOOK_URLS names ${config.notifications.webhooks.urls.length} receiver(s), signed per Standard Webhooks`,
        ),
  slack: (config) =>
    config.notifications.slack !== undefined ? on('SLACK_WEBHOOK_URL is set') : off('SLACK_WEBHOOK_URL is unset'),
  servicenow: (config) =>
    config.notifications.serviceNow !== undefined
      ? on('SERVICENOW_INSTANCE_URL is set: incidents through the Table API')
      : off('SERVICENOW_INSTANCE_URL is unset'),
  email_to_person: (config) =>
    config.notifications.email !== undefined
      ? on('SMTP_URL is set: verification links by email at registration and when the login gate blocks')
      : off('SMTP_URL is unset'),
  notification_outbox: (config) =>
    !notifying(config)
      ? off('no notification channel is configured')
      : config.database !== undefined
        ? 'postgres: written with each change, sent at least once after it commits, by one replica at a time'
        : 'memory: best effort; notifications still waiting when the process stops are lost (set DATABASE_URL)',
  metrics_auth: (config) =>
    config.metrics.tokens !== undefined ? on('METRICS_TOKEN is set') : off('METRICS_TOKEN is unset'),
  admin_api: (config) => {
    if (config.admin === undefined) return off('ADMIN_API_TOKEN is unset');
    const where = config.admin.port !== undefined ? 'on ADMIN_PORT only' : 'on PORT, behind the token';
    const audit =
      config.database !== undefined
        ? 'the audit in the audit_log table and the log'
        : 'the audit is the log only (no DATABASE_URL)';
    return on(`ADMIN_API_TOKEN is set: ${where}; ${audit}`);
  },
};

/** One line per setting that can silently disable something: add yours here. */
const WARNINGS: ((config: Settings) => StartupWarning | undefined)[] = [
  (config) =>
    requireApproved(config) && config.start.publicBaseUrl === undefined
      ? {
          setting: 'PUBLIC_BASE_URL',
          message: 'PUBLIC_BASE_URL is unset: blocked users get messages 4100002 and 4100003 without a link to verify',
        }
      : undefined,
  (config) =>
    config.start.returnToAllowlist.length === 0
      ? {
          setting: 'RETURN_TO_ALLOWLIST',
          message:
            config.start.defaultReturnTo === undefined
              ? 'RETURN_TO_ALLOWLIST is empty: /persona/start refuses every return_to and users who finish stay on this service'
              : 'RETURN_TO_ALLOWLIST is empty: /persona/start refuses every return_to but DEFAULT_RETURN_TO',
        }
      : undefined,
  (config) =>
    config.start.loginUrl !== undefined && config.start.publicBaseUrl === undefined
      ? {
          setting: 'PUBLIC_BASE_URL',
          message:
            'PUBLIC_BASE_URL is unset: after signing in through LOGIN_URL, users are not brought back to /persona/start',
        }
      : undefined,
  (config) =>
    !requireApproved(config) && config.login.gracePeriodMs !== undefined
      ? {
          setting: 'LOGIN_GRACE_PERIOD',
          message: 'LOGIN_GRACE_PERIOD has no effect: it applies only with LOGIN_POLICY=require-approved',
        }
      : undefined,
  (config) =>
    !requireApproved(config) && config.login.reverifyAfterMs !== undefined
      ? {
          setting: 'REVERIFY_AFTER',
          message:
            'REVERIFY_AFTER is not enforced at login with LOGIN_POLICY=block-declined: only /persona/start asks for a new verification',
        }
      : undefined,
  (config) =>
    config.reconcile.intervalMs !== undefined && config.reconcile.windowMs < config.reconcile.intervalMs
      ? {
          setting: 'RECONCILE_WINDOW',
          message:
            'RECONCILE_WINDOW is shorter than RECONCILE_INTERVAL: inquiries created between runs are never reconciled',
        }
      : undefined,
  (config) =>
    config.record.attributeMatch?.onMismatch === 'review' && !requireApproved(config)
      ? {
          setting: 'ATTRIBUTE_MISMATCH_ACTION',
          message:
            'ATTRIBUTE_MISMATCH_ACTION=review with LOGIN_POLICY=block-declined lets a person whose document does not match in (only declines block): choose decline, or require-approved',
        }
      : undefined,
  (config) =>
    config.record.attributeMatch !== undefined
      ? {
          setting: 'ATTRIBUTE_MATCH',
          message: `ATTRIBUTE_MATCH compares approvals with traits the person could change in Kratos's profile settings (${config.record.attributeMatch.attributes.map(({ traitPath }) => traitPath.join('.')).join(', ')}): the profile settings hook (persona-settings-profile) must be configured, which refuses such changes; this service cannot see whether Kratos calls it. Change these traits through the admin API`,
        }
      : undefined,
  ({ privacy, database }) =>
    privacy.sweepIntervalMs !== undefined && privacy.redactDeletedAfterMs !== undefined && database === undefined
      ? {
          setting: 'REDACT_DELETED_AFTER',
          message:
            'single-instance mode keeps when an identity was first found missing in memory: every restart begins the grace period again (redaction comes later, never earlier); DATABASE_URL keeps it',
        }
      : undefined,
  ({ privacy }) =>
    privacy.sweepIntervalMs === undefined && privacy.retentionMs !== undefined
      ? {
          setting: 'PERSONA_RETENTION',
          message:
            'PERSONA_RETENTION is set but REDACTION_SWEEP_INTERVAL is not: nothing is redacted by age unless `npm run admin -- redaction-sweep` runs from a scheduler',
        }
      : undefined,
  (config) => (metricsExposure(config) === 'off' ? { setting: 'METRICS_TOKEN', message: METRICS_OFF_HINT } : undefined),
  (config) =>
    config.admin !== undefined && config.admin.port === undefined
      ? {
          setting: 'ADMIN_PORT',
          message:
            'the admin API is served on PORT beside the public routes: set ADMIN_PORT and keep that port off the internet',
        }
      : undefined,
  (config) =>
    config.admin !== undefined && config.start.publicBaseUrl === undefined
      ? {
          setting: 'PUBLIC_BASE_URL',
          message: 'PUBLIC_BASE_URL is unset: the admin API cannot issue verification links or short codes',
        }
      : undefined,
  (config) =>
    config.kratos.apiKey === undefined && new URL(config.kratos.adminUrl).hostname.endsWith('.oryapis.com')
      ? {
          setting: 'ORY_API_KEY',
          message: 'ORY_API_KEY is unset but KRATOS_ADMIN_URL is on Ory Network: Kratos will refuse every admin call',
        }
      : undefined,
];

/** What the service runs with, for the line it logs at start: no secrets, no addresses. */
export function startupSummary(config: Settings): StartupSummary {
  return {
    mode: config.database === undefined ? 'single-instance' : 'postgres',
    loginPolicy: config.login.policy,
    inquiryType: config.persona.inquiryType,
    personaEnvironment: config.persona.environment,
    features: Object.fromEntries(Object.entries(FEATURES).map(([name, describe]) => [name, describe(config)])),
    warnings: WARNINGS.map((warn) => warn(config)).filter((warning) => warning !== undefined),
  };
}

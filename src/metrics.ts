import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { OutboundCall } from './outbound/observe.js';

/** What a webhook came to, as counted (README, "Metrics"). */
export type WebhookResult = 'applied' | 'duplicate' | 'stale' | 'ignored' | 'rejected' | 'failed';

/** What became of a recovery by verification step (README, "Metrics"). */
export type RecoveryResult = 'requested' | 'rate_limited' | 'code_issued' | 'refused';

const OUTBOUND_ERROR_REASON = (call: OutboundCall) => {
  const failure = call.failure;
  if (failure === undefined) return undefined;
  if (failure.kind !== 'status') return failure.kind;
  return failure.status === 429 ? 'rate_limited' : failure.status >= 500 ? 'server_error' : 'client_error';
};

/** Event names are Persona's (signed), but a label never takes an unchecked value. */
const eventLabel = (name: string | undefined) =>
  name !== undefined && /^[a-z][a-z0-9_./-]{0,63}$/.test(name) ? name : 'unknown';

/**
 * The service's Prometheus metrics, in a registry of its own (so several apps in one process, as
 * in tests, never share counters), with Node's default process metrics.
 */
export function createMetrics() {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });

  const requestDuration = new Histogram({
    name: 'http_request_duration_seconds',
    help: 'Duration of HTTP requests served, by route and status.',
    labelNames: ['method', 'route', 'status'] as const,
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [registry],
  });
  const webhookEvents = new Counter({
    name: 'persona_webhook_events_total',
    help: 'Persona webhook deliveries by event name and result.',
    labelNames: ['event', 'result'] as const,
    registers: [registry],
  });
  const loginDecisions = new Counter({
    name: 'login_gate_decisions_total',
    help: 'Login gate decisions by decision (allow, block) and reason.',
    labelNames: ['decision', 'reason'] as const,
    registers: [registry],
  });
  const settingsDecisions = new Counter({
    name: 'settings_gate_decisions_total',
    help: 'Settings gate (step-up) decisions by decision (allow, block), reason and settings method.',
    labelNames: ['decision', 'reason', 'method'] as const,
    registers: [registry],
  });
  const recoveries = new Counter({
    name: 'recovery_by_verification_total',
    help: 'Recovery by verification: requests, requests over the rate limit, codes issued, and returns refused.',
    labelNames: ['result'] as const,
    registers: [registry],
  });
  const redactions = new Counter({
    name: 'persona_redactions_total',
    help: "Redactions of identities' Persona data by trigger (request, identity_deleted, retention) and outcome.",
    labelNames: ['trigger', 'outcome'] as const,
    registers: [registry],
  });
  const outboundDuration = new Histogram({
    name: 'outbound_request_duration_seconds',
    help: 'Duration of each attempt of a call to Kratos or Persona, by target, operation and outcome.',
    labelNames: ['target', 'operation', 'outcome'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [registry],
  });
  const outboundErrors = new Counter({
    name: 'outbound_request_errors_total',
    help: 'Failed attempts of calls to Kratos or Persona, by target, operation and reason.',
    labelNames: ['target', 'operation', 'reason'] as const,
    registers: [registry],
  });

  const notifications = new Counter({
    name: 'notifications_total',
    help: 'Attempts to deliver a notification, by channel (webhook, slack, servicenow, email) and result (delivered, skipped, retried, abandoned).',
    labelNames: ['channel', 'result'] as const,
    registers: [registry],
  });
  const notificationsDropped = new Counter({
    name: 'notifications_dropped_total',
    help: 'Notifications refused because the in-memory outbox (no DATABASE_URL) held its most for their channel, by channel.',
    labelNames: ['channel'] as const,
    registers: [registry],
  });

  const adminActions = new Counter({
    name: 'admin_actions_total',
    help: 'Admin API and command-line actions by action and outcome (the audit, counted).',
    labelNames: ['action', 'outcome'] as const,
    registers: [registry],
  });

  // Labelled children, looked up once per label set: prom-client hashes the labels on every call.
  const requestSeries = new Map<string, ReturnType<typeof requestDuration.labels>>();

  return {
    registry,
    observeRequest(method: string, route: string, status: number, durationSeconds: number) {
      const key = `${method} ${route} ${status}`;
      let series = requestSeries.get(key);
      if (series === undefined) {
        series = requestDuration.labels(method, route, String(status));
        requestSeries.set(key, series);
      }
      series.observe(durationSeconds);
    },
    countWebhook(eventName: string | undefined, result: WebhookResult) {
      webhookEvents.inc({ event: eventLabel(eventName), result });
    },
    countNotification(channel: string, result: string) {
      notifications.inc({ channel, result });
    },
    countNotificationDropped(channel: string) {
      notificationsDropped.inc({ channel });
    },
    countLoginDecision(allow: boolean, reason: string) {
      loginDecisions.inc({ decision: allow ? 'allow' : 'block', reason });
    },
    countSettingsDecision(allow: boolean, reason: string, method: string) {
      settingsDecisions.inc({ decision: allow ? 'allow' : 'block', reason, method });
    },
    countRecovery(result: RecoveryResult) {
      recoveries.inc({ result });
    },
    countAdminAction(action: string, outcome: string) {
      adminActions.inc({ action, outcome });
    },
    countRedaction(trigger: string, outcome: string) {
      redactions.inc({ trigger, outcome });
    },
    observeOutbound(call: OutboundCall) {
      const reason = OUTBOUND_ERROR_REASON(call);
      outboundDuration.observe(
        { target: call.target, operation: call.operation, outcome: reason === undefined ? 'ok' : 'error' },
        call.durationMs / 1000,
      );
      if (reason !== undefined) outboundErrors.inc({ target: call.target, operation: call.operation, reason });
    },
  };
}

export type Metrics = ReturnType<typeof createMetrics>;

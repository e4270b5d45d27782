import { createServer, type RequestListener, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import request from 'supertest';
import type { Config } from '../../src/config.js';
import type { PersonaApi } from '../../src/persona/personaClient.js';
import { reconcile, type ReconcileCounts } from '../../src/reconcile/reconcile.js';
import type { Notifications } from '../../src/notifications/notifications.js';
import { acceptedTemplateIds, type Services } from '../../src/services.js';
import { mirrorOf, type PersonaRecord } from '../../src/verification/record.js';
import { applyObservation } from '../../src/verification/transition.js';
import { startKratosStandIn, type KratosStandIn } from '../../sandbox/kratosStandIn.js';
import { startPersonaStandIn, type PersonaStandIn, type ReferenceIds } from '../../sandbox/personaStandIn.js';
import type { RateLimitOptions } from '../../sandbox/personaRateLimit.js';
import { signPersonaWebhook } from '../../sandbox/personaWebhooks.js';
import { startService } from './service.js';

export const ORY_WEBHOOK_SECRET = 'kratos-hook-secret-0123456789abcdef';
export const PERSONA_WEBHOOK_SECRET = 'wbhsec_0123456789abcdefghijklmnop';
export const PERSONA_API_KEY = 'persona_sandbox_0123456789abcdef';
export const TEMPLATE_ID = 'itmpl_Ours1234567890';
/** Another app's template in the same Persona environment. */
export const FOREIGN_TEMPLATE_ID = 'itmpl_Foreign1234567890';
/** The templates of step-up and recovery inquiries, when a test configures them. */
export const STEP_UP_TEMPLATE_ID = 'itmpl_StepUp1234567890';
export const RECOVERY_TEMPLATE_ID = 'itmpl_Recovery1234567890';

export interface Harness {
  app: RequestListener;
  config: Readonly<Config>;
  /** The app's own record store, coordination and rules, and its Persona client. */
  services: Services;
  personaClient: PersonaApi;
  kratos: KratosStandIn;
  persona: PersonaStandIn;
  /** Every log line the service wrote, parsed. */
  logs: Record<string, unknown>[];
  /** The raw log output, for searching secrets and personal data. */
  logText: () => string;
  clock: { now: number };
  /** Runs the reconciliation against the stand-ins, sharing the app's record store. */
  reconcile(since: Date): Promise<ReconcileCounts>;
  /** Posts a Persona event to the callback, signed with our secret at the harness clock's time. */
  postEvent(event: unknown, options?: { secrets?: string[]; timestamp?: number }): request.Test;
  /** Posts a Kratos hook body with the webhook secret. */
  postHook(path: string, body: unknown): request.Test;
  /**
   * An identity whose record holds a Persona inquiry (which exists in the Persona stand-in) in
   * `status`, decided `decidedAgoMs` ago when the status is a decision.
   */
  identityInState(status: string, options?: { decidedAgoMs?: number }): { identityId: string; inquiryId: string };
  /**
   * Serves the app on a loopback port and points the Kratos stand-in's self-service hooks at it,
   * as ory-actions.yaml points Kratos's: its registrations, logins, settings changes and
   * recoveries then call the service. Resolves with the service's URL.
   */
  serve(): Promise<string>;
  /** The service's notifications; their relay sends when a test runs it. */
  notifications: Notifications;
  close(): Promise<void>;
}

export function baseEnv(kratos: KratosStandIn, personaApiBase: string): Record<string, string> {
  return {
    ORY_WEBHOOK_SECRET,
    KRATOS_ADMIN_URL: kratos.adminUrl,
    KRATOS_PUBLIC_URL: kratos.public.url,
    PERSONA_API_KEY,
    PERSONA_API_BASE: personaApiBase,
    PERSONA_TEMPLATE_ID: TEMPLATE_ID,
    PERSONA_WEBHOOK_SECRET,
    LOG_LEVEL: 'debug',
  };
}

export interface HarnessOptions {
  /** Ory Network's project API key, required by the Kratos stand-in's admin API. */
  kratosApiKey?: string;
  /** Whether Persona's inquiries carry their reference id or leave it to their account. */
  referenceIds?: ReferenceIds;
  /** A rate limit the Persona stand-in enforces. */
  personaRateLimit?: RateLimitOptions;
}

/**
 * The service wired to loopback stand-ins of Kratos and Persona, with a controllable clock. `env`
 * is added to the configuration; an entry set to undefined removes one of the harness's own.
 */
export async function startHarness(
  env: Record<string, string | undefined> = {},
  options: HarnessOptions = {},
): Promise<Harness> {
  const clock = { now: Date.now() };
  const kratos = await startKratosStandIn(options.kratosApiKey === undefined ? {} : { apiKey: options.kratosApiKey });
  const persona = await startPersonaStandIn({
    apiKey: PERSONA_API_KEY,
    templateIds: [TEMPLATE_ID, FOREIGN_TEMPLATE_ID, STEP_UP_TEMPLATE_ID, RECOVERY_TEMPLATE_ID],
    now: () => clock.now,
    ...(options.referenceIds !== undefined && { referenceIds: options.referenceIds }),
    ...(options.personaRateLimit !== undefined && { rateLimit: options.personaRateLimit }),
  });
  const service = await startService({ ...baseEnv(kratos, persona.apiBase), ...env }, () => clock.now);
  const { app, config, logger, lines, services } = service;
  const personaClient = service.persona;
  let server: Server | undefined;
  return {
    app,
    config,
    services,
    personaClient,
    kratos,
    persona,
    get logs() {
      return lines.map((line) => JSON.parse(line) as Record<string, unknown>);
    },
    logText: () => lines.join(''),
    clock,
    notifications: services.notifications,
    reconcile: (since) =>
      reconcile({ ...services, persona: personaClient, templateIds: acceptedTemplateIds(config), logger }, since),
    postEvent(event, options = {}) {
      const rawBody = JSON.stringify(event);
      return request(app)
        .post('/persona/callback')
        .set('Content-Type', 'application/json')
        .set('Persona-Signature', personaSignature(rawBody, { timestamp: Math.floor(clock.now / 1000), ...options }))
        .send(rawBody);
    },
    postHook(path, body) {
      return request(app)
        .post(path)
        .set('Content-Type', 'application/json')
        .set('X-Webhook-Secret', ORY_WEBHOOK_SECRET)
        .send(JSON.stringify(body));
    },
    identityInState(status, stateOptions = {}) {
      const identity = kratos.createIdentity();
      const createdAt = new Date(clock.now - (stateOptions.decidedAgoMs ?? 0) - 60_000).toISOString();
      const inquiry = persona.addInquiry({ referenceId: identity.id, status, createdAt });
      const seenAt = new Date(clock.now - (stateOptions.decidedAgoMs ?? 0)).toISOString();
      // The record the service itself would have written on seeing the inquiry in that state.
      const record = applyObservation(
        null,
        {
          inquiry: { id: inquiry.id, status, referenceId: identity.id, templateId: TEMPLATE_ID, createdAt },
          observedAt: seenAt,
          eventId: null,
          purpose: 'onboarding',
        },
        services.rules,
      ).record as PersonaRecord;
      kratos.createIdentity({
        id: identity.id,
        traits: identity.traits,
        metadata_admin: { persona: { ...record, actions: { ...record.actions, pending: [] } } },
        metadata_public: { persona: mirrorOf(record) },
      });
      return { identityId: identity.id, inquiryId: inquiry.id };
    },
    async serve() {
      server ??= createServer(app);
      const listening = server;
      await new Promise<void>((resolve) => listening.listen(0, '127.0.0.1', resolve));
      const url = `http://127.0.0.1:${(listening.address() as AddressInfo).port}`;
      kratos.setHooks({ serviceUrl: url, secret: ORY_WEBHOOK_SECRET });
      return url;
    },
    async close() {
      server?.closeAllConnections();
      await Promise.all([
        kratos.close(),
        persona.close(),
        service.close(),
        new Promise((resolve) => (server?.listening ? server.close(resolve) : resolve(undefined))),
      ]);
    },
  };
}

/** Signs a webhook body the way Persona does, without the code under test. */
export function personaSignature(rawBody: string, options: { secrets?: string[]; timestamp?: number } = {}): string {
  return signPersonaWebhook(
    rawBody,
    options.secrets ?? [PERSONA_WEBHOOK_SECRET],
    options.timestamp ?? Math.floor(Date.now() / 1000),
  );
}

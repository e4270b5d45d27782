import { randomBytes } from 'node:crypto';
import { createServer, type RequestListener } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createApp } from '../src/app.js';
import { loadConfig, type Config } from '../src/config.js';
import { createKratosClient } from '../src/kratos/kratosClient.js';
import { createLogger, type Logger } from '../src/logger.js';
import { createPersonaClient } from '../src/persona/personaClient.js';
import { startKratosStandIn, type KratosStandIn } from './kratosStandIn.js';
import { startPersonaStandIn, type PersonaStandIn } from './personaStandIn.js';
import { oryActionsSnippetFor, registersWithSession } from './oryActions.js';
import type { Delivery, RedeliveryOptions } from './personaWebhooks.js';

/**
 * The sandbox's made-up credentials: they only open the stand-ins. The secrets are new on every
 * run, as the service refuses any value published in this repository.
 */
export const SANDBOX = {
  oryWebhookSecret: randomBytes(24).toString('hex'),
  personaWebhookSecret: `wbhsec_${randomBytes(24).toString('hex')}`,
  personaApiKey: 'persona_sandbox_standin_key',
  templateId: 'itmpl_SandboxTemplate0001',
  appUrl: 'https://app.example.com',
} as const;

export interface SandboxOptions {
  ports?: { service?: number; kratos?: number; kratosPublic?: number; persona?: number };
  /** Loopback unless a container must reach the servers. */
  host?: string;
  /** More service configuration, e.g. LOGIN_POLICY. */
  env?: Record<string, string>;
  /** A real Kratos to use instead of the stand-in: its admin API, and its public API. */
  kratosAdminUrl?: string;
  kratosPublicUrl?: string;
  logger?: Logger;
  redelivery?: RedeliveryOptions;
  onDelivery?: (delivery: Delivery) => void;
  /** For tests of the demo itself: put something in front of the service. */
  wrapService?: (app: RequestListener) => RequestListener;
}

export interface SandboxEnvironment {
  serviceUrl: string;
  config: Readonly<Config>;
  /** The ory-actions snippet this configuration needs; the Kratos stand-in behaves as it says. */
  snippet: string;
  /** Absent when a real Kratos is used. */
  kratos: KratosStandIn | undefined;
  persona: PersonaStandIn;
  close(): Promise<void>;
}

/**
 * The service wired to the Persona and Kratos stand-ins, each on its own port: Persona delivers
 * signed webhooks to the service, and the Kratos stand-in calls the service's hooks the way
 * ory-actions.yaml configures Kratos to.
 */
export async function startSandbox(options: SandboxOptions = {}): Promise<SandboxEnvironment> {
  const host = options.host ?? '127.0.0.1';
  const persona = await startPersonaStandIn({
    apiKey: SANDBOX.personaApiKey,
    templateIds: [SANDBOX.templateId],
    port: options.ports?.persona,
    host,
    ...(options.redelivery !== undefined && { redelivery: options.redelivery }),
    ...(options.onDelivery !== undefined && { onDelivery: options.onDelivery }),
  });
  const kratos =
    options.kratosAdminUrl === undefined
      ? await startKratosStandIn({ port: options.ports?.kratos, publicPort: options.ports?.kratosPublic, host })
      : undefined;

  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.ports?.service ?? 0, host, resolve);
  });
  const serviceUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  const config = loadConfig({
    // Where the service listens: on loopback, /metrics is served without a token.
    HOST: host,
    ORY_WEBHOOK_SECRET: SANDBOX.oryWebhookSecret,
    KRATOS_ADMIN_URL: options.kratosAdminUrl ?? (kratos as KratosStandIn).adminUrl,
    KRATOS_PUBLIC_URL: options.kratosPublicUrl ?? kratos?.public.url,
    PERSONA_API_KEY: SANDBOX.personaApiKey,
    PERSONA_API_BASE: persona.apiBase,
    PERSONA_HOSTED_FLOW_URL: persona.hostedFlowUrl,
    PERSONA_TEMPLATE_ID: SANDBOX.templateId,
    PERSONA_WEBHOOK_SECRET: SANDBOX.personaWebhookSecret,
    PUBLIC_BASE_URL: serviceUrl,
    RETURN_TO_ALLOWLIST: SANDBOX.appUrl,
    DEFAULT_RETURN_TO: `${SANDBOX.appUrl}/welcome`,
    ...options.env,
  });
  const app = createApp({
    config,
    logger: options.logger ?? createLogger({ level: 'silent' }),
    kratos: createKratosClient(config.kratos),
    persona: createPersonaClient(config.persona),
  });
  server.on('request', options.wrapService ? options.wrapService(app) : app);

  persona.setWebhook({ url: `${serviceUrl}/persona/callback`, secrets: [SANDBOX.personaWebhookSecret] });
  const snippet = oryActionsSnippetFor(config);
  kratos?.setHooks({
    serviceUrl,
    secret: SANDBOX.oryWebhookSecret,
    registrationSession: registersWithSession(snippet),
  });

  return {
    serviceUrl,
    config,
    snippet,
    kratos,
    persona,
    async close() {
      server.closeAllConnections();
      await Promise.all([
        new Promise((resolve) => server.close(resolve)),
        persona.close(),
        kratos?.close() ?? Promise.resolve(),
      ]);
    },
  };
}

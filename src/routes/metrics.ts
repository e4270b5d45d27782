import type { IRouter } from 'express';
import type { Config } from '../config.js';
import type { Metrics } from '../metrics.js';
import { secretMatcher } from '../security/constantTimeEqual.js';
import { isLoopbackHost } from '../security/loopback.js';

/** Where /metrics is served: on METRICS_PORT, on the service's port, or nowhere. */
export type MetricsExposure = 'metrics_port' | 'service_port' | 'off';

export const METRICS_OFF_HINT =
  '/metrics is off: set METRICS_TOKEN to serve it behind a bearer token, METRICS_PORT to serve it on a private port, or HOST=127.0.0.1';

/**
 * Metrics tell outsiders what the service does and how often: without a token they are served only
 * on their own port (kept private by the operator) or by a service that listens on loopback alone.
 */
export function metricsExposure(config: Pick<Config, 'host' | 'metrics'>): MetricsExposure {
  if (config.metrics.port !== undefined) return 'metrics_port';
  return config.metrics.tokens !== undefined || isLoopbackHost(config.host) ? 'service_port' : 'off';
}

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

import { Router } from 'express';

/** Liveness: the process answers. Readiness, with Kratos's health, is its own route. */
export function healthRoute(): Router {
  const router = Router();
  router.get('/healthz', (_req, res) => {
    res.status(200).json({ status: 'ok' });
  });
  return router;
}

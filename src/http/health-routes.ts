import express from 'express';

import type { Check } from '../use-cases/daemon/daemon-readiness';

export type { Check };

/** What `/readyz` reports; each check is evaluated on every request. */
export interface Readiness {
  checks(): Record<string, Check>;
}

/**
 * `/livez` (and its older name `/healthz`): the process answers. `/readyz`: 200 when every check
 * passes, 503 naming the failing ones otherwise; `?verbose` lists every check either way, as
 * kube-apiserver does.
 */
export function createHealthRouter(readiness?: Readiness, role: 'leader' | 'standby' = 'leader'): express.Router {
  const router = express.Router();
  const live = (_req: express.Request, res: express.Response) => { res.json({ status: 'ok' }); };
  router.get('/livez', live);
  router.get('/healthz', live);
  router.get('/readyz', (req, res) => {
    const checks = readiness?.checks() ?? {};
    const failing = Object.entries(checks).filter(([, c]) => !c.ok).map(([name]) => name);
    const body = {
      status: failing.length === 0 ? 'ok' : 'unavailable',
      // On PostgreSQL one daemon leads, the others stand by (SPEC §12); a single daemon leads.
      role,
      ...(failing.length > 0 ? { failing } : {}),
      ...(failing.length > 0 || req.query.verbose !== undefined ? { checks } : {}),
    };
    res.status(failing.length === 0 ? 200 : 503).json(body);
  });
  return router;
}

import { Router } from 'express';
import { ValidationError } from '../domain/errors';
import { Knowledge } from '../use-cases/knowledge';
import { NodeAdmin } from '../use-cases/node-admin';
import { readNode, readNodes } from '../use-cases/read-nodes';
import { NotFoundError } from '../domain/errors';

export interface NodeRouteDependencies {
  knowledge: Knowledge;
  admin: NodeAdmin;
  /** Carries out a drain as a recorded execution; answers its record. Absent: only `?dry_run=true` is served. */
  drain?: (name: string, wait: boolean) => Promise<{ status: number; body: unknown; location?: string }>;
}

/** The node pool of SPEC §8: `GET /api/nodes`, cordon, uncordon, drain. */
export function createNodeRouter(deps: NodeRouteDependencies): Router {
  const { knowledge, admin } = deps;
  const router = Router();

  router.get('/api/nodes', (_req, res) => { res.json(readNodes(knowledge)); });

  router.get('/api/nodes/:name', (req, res) => {
    const node = readNode(knowledge, req.params.name);
    if (!node) throw new NotFoundError(`node '${req.params.name}' is not in the fleet`);
    res.json(node);
  });

  router.post('/api/nodes/:name/cordon', async (req, res) => { res.json(await admin.cordon(req.params.name)); });
  router.post('/api/nodes/:name/uncordon', async (req, res) => { res.json(await admin.uncordon(req.params.name)); });

  router.post('/api/nodes/:name/drain', async (req, res) => {
    const dryRun = readFlag(req.query.dry_run, 'dry_run');
    if (dryRun) {
      res.json(await admin.previewDrain(req.params.name));
      return;
    }
    admin.requireNode(req.params.name);
    if (!deps.drain) throw new ValidationError('dry_run', 'only a preview (?dry_run=true) is available');
    const answer = await deps.drain(req.params.name, readFlag(req.query.wait, 'wait') !== false);
    if (answer.location) res.location(answer.location);
    res.status(answer.status).json(answer.body);
  });

  return router;
}

function readFlag(value: unknown, field: string): boolean | undefined {
  if (value === undefined) return undefined;
  if (value === 'true' || value === '1' || value === '') return true;
  if (value === 'false' || value === '0') return false;
  throw new ValidationError(field, `must be true or false, got '${String(value)}'`);
}

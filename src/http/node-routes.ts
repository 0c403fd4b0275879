import { Router } from 'express';
import { Knowledge } from '../use-cases/cluster/knowledge';
import { NodeAdmin } from '../use-cases/nodes/node-admin';
import { readNode, readNodes } from '../use-cases/nodes/read-nodes';
import { NotFoundError } from '../domain/errors';
import { executionResponse, statusOfExecution } from './execution-responses';
import { NodeVolumes } from '../use-cases/nodes/node-volumes';
import { createNodeVolumeRouter } from './node-volume-routes';
import { readFlag } from './query';

export interface NodeRouteDependencies {
  knowledge: Knowledge;
  admin: NodeAdmin;
  /** The node volumes API; absent = its routes are not served. */
  volumes?: NodeVolumes;
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
    const wait = readFlag(req.query.wait, 'wait') !== false;
    const { execution, done } = await admin.drain(req.params.name);
    if (!wait) {
      res.status(202).location(`/api/executions/${execution.id}`).json({ execution_id: execution.id, kind: 'drain', status: execution.status });
      return;
    }
    const finished = await done;
    res.status(statusOfExecution(finished)).json(executionResponse(finished));
  });

  if (deps.volumes) router.use(createNodeVolumeRouter(deps.volumes));
  return router;
}

import { Router } from 'express';
import { NodeVolumes, readCreateVolumeRequest } from '../use-cases/nodes/node-volumes';

/** `GET|POST /api/nodes/:name/volumes`, `DELETE /api/nodes/:name/volumes/:volume` (SPEC §8). */
export function createNodeVolumeRouter(volumes: NodeVolumes): Router {
  const router = Router();

  router.get('/api/nodes/:name/volumes', async (req, res) => {
    res.json(await volumes.list(req.params.name));
  });

  router.post('/api/nodes/:name/volumes', async (req, res) => {
    const request = readCreateVolumeRequest(req.body);
    const { created, volume } = await volumes.create(req.params.name, request);
    if (created) res.status(201).location(`/api/nodes/${encodeURIComponent(req.params.name)}/volumes/${encodeURIComponent(volume.name)}`);
    res.json(volume);
  });

  router.delete('/api/nodes/:name/volumes/:volume', async (req, res) => {
    await volumes.remove(req.params.name, req.params.volume);
    res.status(204).end();
  });

  return router;
}

import { Request, Router } from 'express';
import { ValidationError } from '../domain/errors';
import { isPlainObject } from '../domain/json-reader';
import { SystemRecord } from '../domain/system';
import { SystemStatus, Systems } from '../use-cases/systems/systems';
import { readFlag } from './query';

/** `/api/systems`: systems from compose files (SPEC §9), with real HTTP statuses. */
export function createSystemRouter(systems: Systems): Router {
  const router = Router();

  router.post('/api/systems', async (req, res) => {
    const body = req.body;
    if (!isPlainObject(body)) throw new ValidationError('', 'the body must be {name, namespace?, env?, compose}');
    for (const key of Object.keys(body)) {
      if (!['name', 'namespace', 'env', 'compose'].includes(key)) throw new ValidationError(key, 'unknown field (expected name, namespace, env, compose)');
    }
    if (body.compose === undefined) throw new ValidationError('compose', 'is required (YAML text or an object)');
    if (body.name !== undefined && typeof body.name !== 'string') throw new ValidationError('name', 'must be a string');
    const wait = readFlag(req.query.wait, 'wait') !== false;
    const started = await systems.start({ name: body.name as string | undefined, namespace: body.namespace as string | undefined, env: body.env, compose: body.compose });
    const { record } = started;
    res.location(`/api/systems/${record.sid}`);
    if (!wait) {
      res.status(202).json({
        status: 'success',
        result: { name: record.app, sid: record.sid, namespace: record.namespace, execution_id: started.executionId, containers: {}, warnings: record.warnings },
        message: `Starting system ${record.app}`,
      });
      return;
    }
    const status = await started.done;
    res.status(201).json({
      status: 'success',
      result: { name: record.app, sid: record.sid, namespace: record.namespace, execution_id: started.executionId, containers: containersOf(status), warnings: record.warnings },
      message: `Started system ${record.app}`,
    });
  });

  router.get('/api/systems', (req, res) => {
    const filter = { namespace: queryString(req, 'namespace'), name: queryString(req, 'name') };
    res.json(systems.list(filter).map(summary));
  });

  router.get('/api/systems/:sid', async (req, res) => {
    res.json(await systems.status(req.params.sid));
  });

  router.delete('/api/systems/:sid', async (req, res) => {
    const volumes = readFlag(req.query.volumes, 'volumes') === true;
    const removed = await systems.delete(req.params.sid, { volumes });
    res.json({ status: 'success', result: { sid: req.params.sid, ...removed }, message: `Deleted system ${req.params.sid}` });
  });

  return router;
}

/** `{service: {port, ports}}`: `port` is the first host port (Tycho's shape), null when the service publishes none. */
function containersOf(status: SystemStatus): Record<string, { port: number | null; ports: SystemStatus['services'][string]['containers'][number]['ports'] }> {
  const out: Record<string, { port: number | null; ports: SystemStatus['services'][string]['containers'][number]['ports'] }> = {};
  for (const [service, s] of Object.entries(status.services)) {
    const ports = s.containers.flatMap((c) => c.ports);
    out[service] = { port: ports[0]?.host_port ?? null, ports };
  }
  return out;
}

function summary(record: SystemRecord) {
  return {
    name: record.app, sid: record.sid, namespace: record.namespace, created_at: record.created_at, status: record.status,
    resource_uri: `/api/systems/${record.sid}`,
  };
}

function queryString(req: Request, key: string): string | undefined {
  const value = req.query[key];
  if (value === undefined) return undefined;
  if (typeof value !== 'string') throw new ValidationError(key, 'must be given once');
  return value;
}

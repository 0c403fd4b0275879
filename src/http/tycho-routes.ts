import { Request, Response, Router } from 'express';
import { DomainError, ValidationError } from '../domain/errors';
import { isPlainObject } from '../domain/json-reader';
import { SystemStatus, Systems } from '../use-cases/systems/systems';
import { log } from '../log';

/**
 * Tycho's compute API (helxplatform/tycho): `/system/start`, `/system/status`, `/system/delete`.
 * Every answer is HTTP 200 with Tycho's envelope `{status: "success" | "error", result, message}`,
 * because Tycho's client raises on any other status, 201 included.
 */
export function createTychoRouter(systems: Systems): Router {
  const router = Router();
  const handle = (work: (body: Record<string, unknown>) => Promise<{ result: unknown; message: string }>) => async (req: Request, res: Response) => {
    try {
      const body = req.body;
      if (!isPlainObject(body)) throw new ValidationError('', 'the body must be a JSON object');
      const { result, message } = await work(body);
      res.status(200).json({ status: 'success', result, message });
    } catch (e) {
      const message = e instanceof DomainError ? e.message : 'internal error';
      if (!(e instanceof DomainError)) log.error({ err: e instanceof Error ? e.stack ?? e.message : String(e) }, 'unexpected error on a Tycho route');
      res.status(200).json({ status: 'error', result: { error: message }, message });
    }
  };

  router.post('/system/start', handle(async (body) => {
    if (body.system === undefined) throw new ValidationError('system', 'is required (the compose file as an object or YAML text)');
    if (typeof body.name !== 'string') throw new ValidationError('name', 'is required');
    const started = await systems.start({
      name: body.name, env: body.env, compose: body.system, username: principalUser(body.principal), tycho: true,
      namespace: typeof body.namespace === 'string' ? body.namespace : undefined,
    });
    const status = await started.done;
    const warnings = started.record.warnings;
    return {
      result: { name: started.record.app, sid: started.record.sid, conn_string: '', containers: tychoContainers(status) },
      message: `Started system ${started.record.app}${warnings.length > 0 ? ` (warnings: ${warnings.join('; ')})` : ''}`,
    };
  }));

  router.post('/system/status', handle(async (body) => {
    const sid = optionalString(body.name, 'name');
    const username = optionalString(body.username, 'username');
    // Both filters apply together (Tycho let the user name replace the sid).
    const records = systems.list({ username }).filter((r) => sid === undefined || r.sid === sid);
    const items = await Promise.all(records.map(async (r) => {
      try {
        return tychoStatusItem(await systems.status(r.sid), r.username ?? '');
      } catch {
        return undefined; // deleted meanwhile
      }
    }));
    return { result: items.filter((i) => i !== undefined), message: 'Get status' };
  }));

  router.post('/system/delete', handle(async (body) => {
    if (typeof body.name !== 'string') throw new ValidationError('name', 'is required (the sid)');
    await systems.delete(body.name, { volumes: body.volumes === true });
    return { result: {}, message: `Deleted system ${body.name}` };
  }));

  return router;
}

/** `principal` is JSON text holding `{"username": …}` (Tycho's client sends it so); a map is taken too. */
function principalUser(principal: unknown): string | undefined {
  if (principal === undefined || principal === null) return undefined;
  let value = principal;
  if (typeof principal === 'string') {
    try {
      value = JSON.parse(principal);
    } catch {
      throw new ValidationError('principal', 'must be JSON text such as {"username": "alice"}');
    }
  }
  if (!isPlainObject(value)) throw new ValidationError('principal', 'must hold an object');
  return typeof value.username === 'string' ? value.username : undefined;
}

function optionalString(value: unknown, field: string): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string') throw new ValidationError(field, 'must be a string');
  return value;
}

/** `{service: {port, "port-1", ip_address}}` for the services that publish a port; never a null. */
function tychoContainers(status: SystemStatus): Record<string, { port: number; 'port-1': number; ip_address: string }> {
  const out: Record<string, { port: number; 'port-1': number; ip_address: string }> = {};
  for (const [service, s] of Object.entries(status.services)) {
    const first = s.containers.flatMap((c) => c.ports)[0];
    if (first) out[service] = { port: first.host_port, 'port-1': first.host_port, ip_address: first.address ?? '' };
  }
  return out;
}

/**
 * Tycho's `utilization`: each container (here: each service, over its replicas) to its quantities in
 * Kubernetes notation, `{"web": {"cpu": "1", "memory": "128Mi"}}`. Tycho's client sums `cpu` and
 * `memory` over the map's values, so a service with no container is left out rather than sent empty.
 */
export function tychoUtilization(status: SystemStatus): Record<string, { cpu: string; memory: string }> {
  const out: Record<string, { cpu: string; memory: string }> = {};
  for (const [service, s] of Object.entries(status.services)) {
    if (s.containers.length === 0) continue;
    const cores = s.containers.reduce((n, c) => n + c.cpu_cores, 0);
    const memoryMi = Math.round(s.containers.reduce((n, c) => n + c.memory_bytes, 0) / (1024 * 1024));
    out[service] = { cpu: String(cores), memory: `${memoryMi}Mi` };
  }
  return out;
}

/** Exactly Tycho's status keys, no other and no null. */
export function tychoStatusItem(status: SystemStatus, username: string) {
  const ports = Object.values(status.services).flatMap((s) => s.containers.flatMap((c) => c.ports));
  return {
    name: status.app,
    app_id: status.name,
    sid: status.sid,
    ip_address: ports[0]?.address ?? '',
    // A number as in Tycho's own answer; 0 when the system publishes no port (Tycho's clients reject nulls).
    port: ports[0]?.host_port ?? 0,
    creation_time: status.created_at,
    username,
    utilization: tychoUtilization(status),
    workspace_name: status.name,
    is_ready: status.ready,
    conn_string: '',
  };
}

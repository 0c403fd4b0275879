import { randomBytes } from 'crypto';
import { parseCompose, readSystemName } from '../../schema/compose/compose-file';
import { parseDotEnv } from '../../schema/compose/interpolate';
import { composeToApp, systemAppEdit } from '../../schema/compose/system-app';
import { ConflictError, DomainError, HeldByJobsError, InfrastructureError, NoSolutionError, NotFoundError, UnsatisfiableError, ValidationError } from '../../domain/errors';
import { Execution } from '../../domain/execution';
import { readObject } from '../../domain/json-reader';
import { flatTierName } from '../../domain/names';
import { ZERO } from '../../domain/resources';
import { errorMessage } from '../../domain/errors';
import { ManagedContainer } from '../../ports/container-runtime';
import { newSystem, SystemRecord } from '../../domain/system';
import { Knowledge, Services } from '../cluster/knowledge';
import { readVm } from '../cluster/observe-cluster';
import { ExecutionQueue } from '../execution/execution-queue';
import { SerialQueue } from '../execution/serial-queue';
import { SystemBook } from './system-book';
import { addApp, removeApp } from '../topology/topology-apps';

export interface SystemsOptions {
  /** The system records (their one writer). */
  book: SystemBook;
  /** Host paths may be bound only under this directory (`--allow-bind`); none = no host paths. */
  allowBindRoot?: string;
  /** How long `start` waits for every service to be running and healthy. */
  readyTimeoutMs: number;
  readyPollMs?: number;
}

export interface StartRequest {
  name?: string;
  namespace?: string;
  /** `.env` text or a map. */
  env?: unknown;
  /** YAML text or the parsed object. */
  compose: unknown;
  username?: string;
  /** Accept the keys Tycho's clients add (with warnings). */
  tycho?: boolean;
}

export interface PortReport {
  container_port: number;
  host_port: number;
  protocol: string;
  vm: string;
  address?: string;
}

export interface ContainerReport {
  id: string;
  vm: string;
  state: string;
  health?: string;
  exit_code?: number;
  cpu_cores: number;
  memory_bytes: number;
  ports: PortReport[];
}

export interface ServiceStatus {
  state: string;
  health?: string;
  ready: boolean;
  containers: ContainerReport[];
}

export interface SystemStatus {
  name: string;
  sid: string;
  namespace: string;
  app: string;
  created_at: string;
  status: SystemRecord['status'];
  ready: boolean;
  services: Record<string, ServiceStatus>;
  warnings: string[];
}

export const DEFAULT_NAMESPACE = 'default';
const NAMESPACE_PATTERN = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;

/**
 * Systems: compose files started as apps of the topology. A start adds the app `<name>-<sid>` to the
 * topology in force (no container yet; an app edit, which checks that app alone and reaches no
 * engine; the record and the topology version are written in one transaction), then applies the
 * file's initial plan as one execution of kind `system` (allocate, translate, create in dependency
 * order), then waits until every service is running and healthy. Whatever fails on the way takes
 * back everything the start created. Delete applies a plan removing every tier (kind `system`),
 * removes the networks (and volumes when asked) on every node, then takes the app out of the
 * topology (an app edit again, in one transaction with forgetting the record).
 */
export class Systems {
  /** Systems whose start has not finished in this process. */
  private readonly starting = new Set<string>();
  private readonly deleting = new Set<string>();

  constructor(
    private readonly knowledge: Knowledge,
    private readonly services: Services,
    private readonly queue: SerialQueue,
    /** A system's plans are carried out as executions of kind `system`. */
    private readonly executions: ExecutionQueue,
    private readonly options: SystemsOptions,
  ) {}

  /**
   * Validates and registers the system; `done` settles with its status once every service is ready,
   * or rejects (after cleaning up) with the reason it could not start.
   */
  async start(request: StartRequest): Promise<{ record: SystemRecord; executionId: string; done: Promise<SystemStatus> }> {
    const env = readEnv(request.env);
    const file = parseCompose(request.compose, { env, tycho: request.tycho, allowBindRoot: this.options.allowBindRoot });
    const nameValue = request.name ?? file.name;
    if (nameValue === undefined) throw new ValidationError('name', 'is required (or give the compose file a top-level name)');
    const name = readSystemName(nameValue, 'name');
    const namespace = request.namespace === undefined || request.namespace === null ? DEFAULT_NAMESPACE : readNamespace(request.namespace);
    const deployment = this.knowledge.requireDeployment();
    const sid = randomBytes(16).toString('hex');
    const system = composeToApp(file, { name, sid, namespace }, deployment.topology.infrastructure.memUnitMb);

    const record = newSystem({ sid, name, app: system.appName, namespace, username: request.username }, [...file.warnings, ...system.warnings]);
    const book = this.options.book;
    await this.queue.run(() => addApp(this.knowledge, this.services, systemAppEdit(system), (topology) => book.started(record, topology)));
    const { execution, done } = await this.executions.submit({ kind: 'system', plan: system.plan });
    await book.executionAdded(record, execution.id);
    this.starting.add(sid);
    const finished = this.finishStart(record, done).finally(() => this.starting.delete(sid));
    // A caller that does not wait (`?wait=false`) reads the outcome from the status; nothing is left unhandled.
    finished.catch(() => undefined);
    return { record, executionId: execution.id, done: finished };
  }

  private async finishStart(record: SystemRecord, done: Promise<Execution>): Promise<SystemStatus> {
    const execution = await done;
    let failure: DomainError | undefined;
    if (execution.status !== 'succeeded') {
      failure = executionError(execution);
    } else {
      try {
        const status = await this.waitReady(record);
        await this.options.book.running(record);
        return status;
      } catch (e) {
        failure = e instanceof DomainError ? e : new InfrastructureError(errorMessage(e));
      }
    }
    // A failed start leaves nothing behind: containers, networks, volumes it made, its app.
    try {
      await this.remove(record, { volumes: true });
    } catch (e) {
      failure = new InfrastructureError(`${failure.message}; removing what the start created failed too: ${errorMessage(e)}`);
    }
    throw failure;
  }

  private async waitReady(record: SystemRecord): Promise<SystemStatus> {
    const deadline = Date.now() + this.options.readyTimeoutMs;
    for (;;) {
      const status = await this.status(record.sid);
      if (status.ready) return status;
      const failed = Object.entries(status.services).find(([, s]) => s.state === 'exited' || s.state === 'dead' || s.health === 'unhealthy');
      if (failed) throw new UnsatisfiableError(`service '${failed[0]}' is ${failed[1].health === 'unhealthy' ? 'unhealthy' : failed[1].state}`);
      if (Date.now() > deadline) {
        const waiting = Object.entries(status.services).filter(([, s]) => !s.ready).map(([n]) => n);
        throw new UnsatisfiableError(`services ${waiting.join(', ')} were not ready within ${Math.round(this.options.readyTimeoutMs / 1000)} s`);
      }
      await new Promise((r) => setTimeout(r, this.options.readyPollMs ?? 100));
    }
  }

  /**
   * After a restart: a system whose app is gone from the topology is forgotten; one whose start or
   * delete the stopped daemon left half-way is kept as it is on the engines, with a warning, for
   * the user to read its status and delete it.
   */
  async recoverInterrupted(): Promise<number> {
    const apps = new Set(this.knowledge.deployment?.topology.apps.map((a) => a.name) ?? []);
    let recovered = 0;
    for (const record of this.options.book.list()) {
      if (record.status === 'running' || this.starting.has(record.sid) || this.deleting.has(record.sid)) continue;
      recovered++;
      if (this.knowledge.deployment && !apps.has(record.app)) {
        await this.options.book.forget(record.sid);
        continue;
      }
      await this.options.book.interrupted(record);
    }
    return recovered;
  }

  list(filter: { namespace?: string; name?: string; username?: string } = {}): SystemRecord[] {
    return this.options.book.list().filter((r) =>
      (filter.namespace === undefined || r.namespace === filter.namespace)
      && (filter.name === undefined || r.name === filter.name)
      && (filter.username === undefined || r.username === filter.username));
  }

  get(sid: string): SystemRecord {
    const record = this.options.book.get(sid);
    if (!record) throw new NotFoundError(`system '${sid}' not found`);
    return record;
  }

  /** The system as the engines report it now. */
  async status(sid: string): Promise<SystemStatus> {
    const record = this.get(sid);
    const deployment = this.knowledge.requireDeployment();
    const tiers = [...deployment.topology.tiers.values()].filter((t) => t.app === record.app);
    const services: Record<string, ServiceStatus> = {};
    for (const t of tiers) services[t.tier] = { state: 'missing', ready: false, containers: [] };
    await Promise.all(Object.entries(deployment.cluster).map(async ([vmName, { vm }]) => {
      let containers: ManagedContainer[];
      try {
        containers = await readVm(this.services.runtimeFor(vm), vmName, new Set(tiers.map((t) => t.flatName)), 'full');
      } catch (e) {
        for (const [service, s] of Object.entries(services)) {
          const known = deployment.cluster[vmName].containers[flatTierName(record.app, service)];
          if (known) s.containers.push({ id: known.id, vm: vmName, state: 'vm_unreachable', cpu_cores: 0, memory_bytes: 0, ports: [] });
        }
        return;
      }
      for (const c of containers) {
        const service = (services[c.tier] ??= { state: 'missing', ready: false, containers: [] });
        service.containers.push({
          id: c.id, vm: vmName, state: c.state, health: c.health, exit_code: c.state === 'running' ? undefined : c.exitCode,
          cpu_cores: c.cpuset.length, memory_bytes: c.memoryBytes,
          ports: Object.entries(c.hostPorts ?? {}).map(([key, hostPort]) => {
            const [port, protocol] = key.split('/');
            return { container_port: Number(port), host_port: hostPort, protocol, vm: vmName, address: vm.address };
          }),
        });
      }
    }));
    for (const s of Object.values(services)) {
      s.containers.sort((a, b) => a.vm.localeCompare(b.vm));
      if (s.containers.length === 0) continue;
      const states = new Set(s.containers.map((c) => c.state));
      s.state = states.size === 1 ? [...states][0] : 'mixed';
      const healths = s.containers.map((c) => c.health).filter((h): h is string => h !== undefined);
      s.health = healths.length === 0 ? undefined : healths.includes('unhealthy') ? 'unhealthy' : healths.every((h) => h === 'healthy') ? 'healthy' : 'starting';
      s.ready = s.containers.every((c) => c.state === 'running' && (c.health === undefined || c.health === 'healthy'));
    }
    return {
      name: record.name, sid: record.sid, namespace: record.namespace, app: record.app, created_at: record.created_at, status: record.status,
      ready: record.status !== 'deleting' && Object.keys(services).length > 0 && Object.values(services).every((s) => s.ready),
      services, warnings: record.warnings,
    };
  }

  /** Removes the system; its named volumes too when `volumes` is true. */
  async delete(sid: string, options: { volumes: boolean }): Promise<{ networks: string[]; volumes: string[]; execution_id?: string }> {
    const record = this.get(sid);
    if (record.status === 'deleting' && this.deleting.has(sid)) throw new ConflictError(`system '${sid}' is being deleted`);
    if (this.starting.has(sid)) throw new ConflictError(`system '${sid}' is still starting`);
    return this.remove(record, options);
  }

  private async remove(record: SystemRecord, options: { volumes: boolean }): Promise<{ networks: string[]; volumes: string[]; execution_id?: string }> {
    this.deleting.add(record.sid);
    try {
      return await this.removeNow(record, options);
    } finally {
      this.deleting.delete(record.sid);
    }
  }

  private async removeNow(record: SystemRecord, options: { volumes: boolean }): Promise<{ networks: string[]; volumes: string[]; execution_id?: string }> {
    const book = this.options.book;
    await book.deleting(record);
    const deployment = this.knowledge.requireDeployment();
    const tiers = [...deployment.topology.tiers.values()].filter((t) => t.app === record.app);
    const running = tiers.filter((t) => Object.values(deployment.cluster).some((s) => s.containers[t.flatName]));
    let executionId: string | undefined;
    if (running.length > 0) {
      const plan = Object.fromEntries(running.map((t) => [t.flatName, { ...ZERO }]));
      const { execution, done } = await this.executions.submit({ kind: 'system', plan });
      executionId = execution.id;
      await book.executionAdded(record, execution.id);
      const finished = await done;
      if (finished.status !== 'succeeded') {
        await book.deleteFailed(record);
        throw executionError(finished);
      }
    }
    const removed = { networks: [] as string[], volumes: [] as string[] };
    for (const { vm } of Object.values(this.knowledge.requireDeployment().cluster)) {
      const networks = this.services.runtimeFor(vm).systemNetworks;
      if (!networks) continue;
      const r = await networks.remove(record.sid, options);
      removed.networks.push(...r.networks.map((n) => `${vm.name}/${n}`));
      removed.volumes.push(...r.volumes.map((v) => `${vm.name}/${v}`));
    }
    await this.queue.run(async () => {
      const removed = await removeApp(this.knowledge, record.app, (topology) => book.removed(record.sid, topology));
      if (!removed) await book.forget(record.sid);
    });
    return { ...removed, execution_id: executionId };
  }
}

function readEnv(value: unknown): Record<string, string> {
  if (value === undefined || value === null) return {};
  if (typeof value === 'string') return parseDotEnv(value);
  const obj = readObject(value, 'env');
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(obj)) {
    if (typeof v === 'string') out[k] = v;
    else if (typeof v === 'number' || typeof v === 'boolean') out[k] = String(v);
    else if (v !== null) throw new ValidationError(`env.${k}`, 'must be a string, number or boolean');
  }
  return out;
}

function readNamespace(value: unknown): string {
  if (typeof value !== 'string' || !NAMESPACE_PATTERN.test(value)) {
    throw new ValidationError('namespace', 'must be lower-case letters, digits and -, at most 63 characters');
  }
  return value;
}

/** The error an execution ended with, as the domain error it stands for. */
function executionError(execution: Execution): DomainError {
  const message = execution.error?.message ?? `execution ${execution.id} ${execution.status}`;
  switch (execution.error?.code) {
    case 'no_solution': return new NoSolutionError(message.replace(/^No solution found:?\s*/, '') || undefined);
    case 'unsatisfiable': return new UnsatisfiableError(message);
    case 'held_by_jobs': return new HeldByJobsError(message);
    case 'invalid': return new ValidationError('', message);
    case 'conflict': return new ConflictError(message);
    default: return new InfrastructureError(`execution ${execution.id}: ${message}`, execution.error?.code === 'cancelled' ? 'cancelled' : 'infrastructure');
  }
}

import { networkInterfaces } from 'node:os';
import type { Readable } from 'node:stream';
import Docker from 'dockerode';
import { ConflictError, DomainError, InfrastructureError, NotFoundError } from '../../domain/errors';
import { EngineEndpoint } from '../../domain/vm';
import {
  ContainerRuntime, ContainerSpec, EngineInfo, ExecOptions, ExecResult,
  ManagedContainer, ManagedContainerState, RuntimeImages, RuntimeSystemNetworks, RuntimeTasks, RuntimeVolumes,
} from '../../ports/container-runtime';
import { assertResources, containerCreateBody, MIB, shortId, toManagedContainer } from './docker-container-body';
import { DockerExec } from './docker-exec';
import { DockerImages } from './docker-images';
import { bridgeGatewayAddress, resolveHost } from './docker-host-address';
import { DockerSystemResources, isPortConflict } from './docker-system-resources';
import { EngineCall, inspectIfExists } from './engine-call';
import { DockerNodeVolumes } from './docker-node-volumes';
import { DockerTasks } from './docker-tasks';
import { LABEL_FLAT_TIER, LABEL_MANAGED, LABEL_VM } from './labels';
import { DockerEndpoint, dockerodeOptions, isLoopbackHost, parseEngineAddress } from './docker-endpoint';

export interface DockerRuntimeOptions {
  /** Budget of one engine call (inspect, create, update …). */
  callTimeoutMs?: number;
  /** Budget for pulling an image the engine does not have. */
  pullTimeoutMs?: number;
}

export const DEFAULT_CALL_TIMEOUT_MS = 30_000;
export const DEFAULT_PULL_TIMEOUT_MS = 600_000;
export const DEFAULT_PING_TIMEOUT_MS = 5_000;
/** Host ports tried for one system container before giving up. */
const MAX_PORT_ATTEMPTS = 5;

/**
 * A node's Docker engine through dockerode. Every call is bounded in time; engine failures become
 * InfrastructureError naming the endpoint and the operation (404 on a container or file: NotFoundError).
 * Containers without the managed label are never changed.
 */
export class DockerContainerRuntime implements ContainerRuntime {
  private readonly docker: Docker;
  private readonly callTimeoutMs: number;
  private readonly pullTimeoutMs: number;
  private readonly systems: DockerSystemResources;
  private readonly io: DockerExec;
  private readonly engineCall: EngineCall;

  readonly endpoint: EngineEndpoint;
  /** Every container gets a cpuset (HostConfig.CpusetCpus). */
  readonly pinsCores = true;
  readonly volumes: RuntimeVolumes;
  readonly systemNetworks: RuntimeSystemNetworks;
  readonly tasks: RuntimeTasks;
  readonly images: RuntimeImages;

  constructor(endpoint: DockerEndpoint, options: DockerRuntimeOptions = {}) {
    this.endpoint = { kind: 'docker', url: endpoint.url, ...(endpoint.certPath !== undefined ? { certPath: endpoint.certPath } : {}) };
    this.docker = new Docker(dockerodeOptions(endpoint));
    this.callTimeoutMs = options.callTimeoutMs ?? DEFAULT_CALL_TIMEOUT_MS;
    this.pullTimeoutMs = options.pullTimeoutMs ?? DEFAULT_PULL_TIMEOUT_MS;
    // Every part of the driver talks to the engine through this runtime's bounded, translated calls.
    const call: EngineCall = (operation, run, timeoutMs) => this.call(operation, run, timeoutMs);
    this.engineCall = call;
    this.systems = new DockerSystemResources(this.docker, call);
    this.volumes = new DockerNodeVolumes(this.docker, call);
    this.systemNetworks = {
      remove: (sid, options) => this.systems.removeSystemResources(sid, options),
      listVolumes: (sid) => this.systems.listSystemVolumes(sid),
    };
    this.io = new DockerExec(this.docker, call, this.callTimeoutMs, () => this.where());
    const pull = (image: string) => this.pullImage(image);
    this.tasks = new DockerTasks(this.docker, call, this.io, pull, this.callTimeoutMs);
    this.images = new DockerImages(this.docker, call, pull, this.pullTimeoutMs);
  }

  async ping(timeoutMs = DEFAULT_PING_TIMEOUT_MS): Promise<void> {
    await this.call('ping', (abortSignal) => withSignal(this.docker, 'ping')({ abortSignal }), timeoutMs);
  }

  async info(): Promise<EngineInfo> {
    const info = await this.call('read engine info', (abortSignal) =>
      withSignal(this.docker, 'info')({ abortSignal }) as Promise<{ NCPU: number; MemTotal: number; ServerVersion: string }>);
    return { cpus: info.NCPU, memoryBytes: info.MemTotal, serverVersion: info.ServerVersion };
  }

  /**
   * A remote tcp engine is reached at its URL's host (a name is resolved, since Docker's host entries
   * take addresses only), and so are its published ports. A local engine (unix socket, loopback tcp)
   * is reached by its containers at the default bridge's gateway, which is an address of the host.
   * Debian's dockerd 20.10 lists no gateway on the first start on a new data root, only the subnet:
   * the gateway is then the bridge interface's own address when this machine has that interface, and
   * else the subnet's first address, which is the one dockerd gives the bridge it creates.
   */
  async hostAddress(): Promise<string | undefined> {
    const address = parseEngineAddress(this.endpoint);
    if (address.transport === 'tcp' && !isLoopbackHost(address.host)) return resolveHost(address.host, this.endpoint.url);
    let bridge: Docker.NetworkInspectInfo;
    try {
      bridge = await this.call('inspect the bridge network', () =>
        this.docker.getNetwork('bridge').inspect() as Promise<Docker.NetworkInspectInfo>);
    } catch (err) {
      // An engine run with --bridge=none has no default bridge to tell the host's address by.
      if (err instanceof NotFoundError) return undefined;
      throw err;
    }
    return bridgeGatewayAddress(bridge, networkInterfaces());
  }

  async listManagedStates(): Promise<ManagedContainerState[]> {
    const summaries = await this.call('list managed containers', (abortSignal) =>
      this.docker.listContainers({ all: true, filters: { label: [`${LABEL_MANAGED}=true`] }, abortSignal }));
    return summaries.map((s) => ({
      id: s.Id, flatTier: s.Labels?.[LABEL_FLAT_TIER] ?? '', vm: s.Labels?.[LABEL_VM] ?? '', state: s.State ?? 'unknown',
    }));
  }

  async listManaged(): Promise<ManagedContainer[]> {
    const summaries = await this.call('list managed containers', (abortSignal) =>
      this.docker.listContainers({ all: true, filters: { label: [`${LABEL_MANAGED}=true`] }, abortSignal }));
    const inspected = await Promise.all(summaries.map((s) => inspectIfExists(this.docker, this.engineCall, s.Id, 'inspect managed container')));
    return inspected
      .filter((info): info is Docker.ContainerInspectInfo => info !== undefined)
      .map(toManagedContainer)
      .sort((a, b) => a.name.localeCompare(b.name));
  }

  async create(spec: ContainerSpec): Promise<ManagedContainer> {
    assertResources(spec.cpuset, spec.memoryMb);
    const operation = `create container '${spec.name}'`;
    await this.removeStaleNamesake(spec.name, spec.vm, operation);
    // A system's container may find its host port taken by something the engine did not list
    // (a process on the node, another engine client): the next free port is tried.
    const refusedPorts = new Set<number>();
    // The tier's named volumes are created on the node the first time one of its containers lands there.
    if (spec.mounts?.length) await this.systems.ensureVolumes(spec.mounts, {});
    // A system's network and volumes once; only the host ports change from one attempt to the next.
    if (spec.system) await this.systems.provision(spec.system);
    for (let attempt = 1; ; attempt++) {
      const body = containerCreateBody(spec);
      const reserved = spec.system ? await this.systems.prepare(spec.system, body, refusedPorts) : [];
      try {
        const container = await this.createAndStart(spec, body, operation);
        return await this.inspectManagedById(container.id, `inspect container '${spec.name}'`);
      } catch (err) {
        if (!(spec.system && isPortConflict(err) && attempt < MAX_PORT_ATTEMPTS)) throw err;
        for (const port of reserved) refusedPorts.add(port);
      } finally {
        this.systems.release(reserved);
      }
    }
  }

  private async createAndStart(spec: ContainerSpec, body: Docker.ContainerCreateOptions, operation: string): Promise<Docker.Container> {
    const createContainer = () => this.call(operation, (abortSignal) => this.docker.createContainer({ ...body, abortSignal }));
    let container: Docker.Container;
    try {
      container = await createContainer();
    } catch (err) {
      // Like `docker run`: an image the engine lacks is pulled, with a budget of its own.
      if (!(err instanceof NotFoundError && /no such image/i.test(err.message))) throw err;
      await this.pullImage(spec.image);
      container = await createContainer();
    }
    try {
      await this.call(`start container '${spec.name}'`, (abortSignal) => container.start({ abortSignal }));
    } catch (err) {
      // A container that never started is no use to anyone; leaving it would block the name.
      await this.remove(container.id).catch(() => undefined);
      throw err;
    }
    return container;
  }

  async update(id: string, change: { cpuset: number[]; memoryMb: number }): Promise<ManagedContainer> {
    assertResources(change.cpuset, change.memoryMb);
    const memoryBytes = change.memoryMb * MIB;
    const operation = `update container ${shortId(id)} to cpuset ${change.cpuset.join(',')} and ${change.memoryMb} MiB`;
    // Memory and MemorySwap go in one request: the engine (runc) orders the two cgroup v1 writes so
    // that memory <= memsw holds at every step, whether the limit grows or shrinks.
    await this.call(operation, (abortSignal) => this.docker.getContainer(id).update({
      CpusetCpus: change.cpuset.join(','),
      Memory: memoryBytes,
      MemorySwap: memoryBytes,
      abortSignal,
    }));
    return this.inspectManagedById(id, `inspect container ${shortId(id)}`);
  }

  async start(id: string): Promise<ManagedContainer> {
    try {
      await this.call(`start container ${shortId(id)}`, (abortSignal) => this.docker.getContainer(id).start({ abortSignal }));
    } catch (err) {
      // 304 Not Modified: it already runs, which is what was asked for.
      if (!(err instanceof InfrastructureError && (err.cause as { statusCode?: number } | undefined)?.statusCode === 304)) throw err;
    }
    return this.inspectManagedById(id, `inspect container ${shortId(id)}`);
  }

  async remove(id: string): Promise<void> {
    try {
      await this.call(`remove container ${shortId(id)}`, (abortSignal) =>
        this.docker.getContainer(id).remove({ force: true, v: true, abortSignal }));
    } catch (err) {
      // Already gone is what was asked for. 409 "removal already in progress" ends the same way.
      if (err instanceof NotFoundError) return;
      if (err instanceof InfrastructureError && /already in progress/i.test(err.message)) return;
      throw err;
    }
  }

  putFile(id: string, path: string, content: string | Buffer, mode?: number): Promise<void> {
    return this.io.putFile(id, path, content, mode);
  }

  readFile(id: string, path: string): Promise<Buffer> {
    return this.io.readFile(id, path);
  }

  exec(id: string, options: ExecOptions): Promise<ExecResult> {
    return this.io.exec(id, options);
  }

  /** Engine calls, each bounded by a timeout, with failures translated into domain errors. */
  private async call<T>(operation: string, run: (signal: AbortSignal) => Promise<T>, timeoutMs = this.callTimeoutMs): Promise<T> {
    const controller = new AbortController();
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        controller.abort();
        reject(new InfrastructureError(`${this.where()}: ${operation} timed out after ${timeoutMs} ms`, 'timeout'));
      }, timeoutMs);
    });
    try {
      return await Promise.race([run(controller.signal), timeout]);
    } catch (err) {
      throw this.translateError(operation, err);
    } finally {
      clearTimeout(timer);
    }
  }

  private translateError(operation: string, err: unknown): DomainError {
    if (err instanceof DomainError) return err;
    const message = `${this.where()}: ${operation} failed: ${engineMessage(err)}`;
    const statusCode = (err as { statusCode?: number } | null)?.statusCode;
    if (statusCode === 404) return new NotFoundError(message);
    return new InfrastructureError(message, 'infrastructure', err);
  }

  private where(): string {
    return `docker endpoint ${this.endpoint.url}`;
  }

  private async inspectManagedById(id: string, operation: string): Promise<ManagedContainer> {
    const info = await this.call(operation, (abortSignal) => this.docker.getContainer(id).inspect({ abortSignal }));
    return toManagedContainer(info);
  }

  /**
   * A managed container of the same VM already holding the name is a leftover (a crash between
   * create and record, a lost state dir): it is replaced. Anyone else's container is refused and left
   * alone, and so is one labelled for another VM (two nodes sharing one engine): removing it would
   * take down that VM's tier.
   */
  private async removeStaleNamesake(name: string, vm: string, operation: string): Promise<void> {
    const existing = await inspectIfExists(this.docker, this.engineCall, name, operation);
    // The engine also resolves ID prefixes; only an exact name is a namesake.
    if (!existing || existing.Name !== `/${name}`) return;
    const labels = existing.Config?.Labels ?? {};
    if (labels[LABEL_MANAGED] !== 'true') {
      throw new ConflictError(`${this.where()}: a container named '${name}' exists and is not managed by ecoware-executor; it is left untouched`);
    }
    if (labels[LABEL_VM] !== vm) {
      throw new ConflictError(`${this.where()}: container '${name}' belongs to vm '${labels[LABEL_VM] ?? ''}', not '${vm}'; it is left untouched`);
    }
    await this.remove(existing.Id);
  }

  private async pullImage(image: string): Promise<void> {
    await this.call(`pull image '${image}'`, async (abortSignal) => {
      const stream = await this.docker.pull(image, { abortSignal }) as Readable;
      await new Promise<void>((resolve, reject) => {
        this.docker.modem.followProgress(stream, (err: Error | null, events: { error?: string }[]) => {
          const failed = events?.find((e) => e.error);
          if (err) reject(err);
          else if (failed) reject(new Error(failed.error));
          else resolve();
        });
      });
    }, this.pullTimeoutMs);
  }
}

export function createDockerRuntime(endpoint: DockerEndpoint): ContainerRuntime {
  return new DockerContainerRuntime(endpoint);
}

/** The engine's own words, without dockerode's "(HTTP code 409) unexpected - " prefix. */
function engineMessage(err: unknown): string {
  const e = err as { json?: { message?: unknown }; message?: unknown; code?: unknown } | null;
  if (e && typeof e.json === 'object' && e.json !== null && typeof e.json.message === 'string') return e.json.message.trim();
  const message = typeof e?.message === 'string' ? e.message : String(err);
  return message.replace(/^\(HTTP code \d+\)\s*[^-]*-\s*/, '').trim() || (typeof e?.code === 'string' ? e.code : 'unknown error');
}

/** dockerode honours `abortSignal` on ping and info, though its type declarations omit it there. */
function withSignal(docker: Docker, method: 'ping' | 'info'): (options: { abortSignal: AbortSignal }) => Promise<unknown> {
  return (options) => (docker[method] as unknown as (o: { abortSignal: AbortSignal }) => Promise<unknown>).call(docker, options);
}

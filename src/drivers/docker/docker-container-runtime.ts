import { randomBytes } from 'node:crypto';
import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import { networkInterfaces, NetworkInterfaceInfo } from 'node:os';
import { posix } from 'node:path';
import type { Duplex, Readable } from 'node:stream';
import Docker from 'dockerode';
import {
  ConflictError, DomainError, InfrastructureError, NotFoundError, ValidationError,
} from '../../domain/errors';
import { DockerEndpoint } from '../../domain/vm';
import {
  ContainerRuntime, ContainerSpec, EngineInfo, ExecOptions, ExecResult, LABEL_APP, LABEL_FLAT_TIER,
  LABEL_HOST_PORTS, LABEL_MANAGED, LABEL_SYSTEM, LABEL_TIER, LABEL_VM, ManagedContainer, ManagedContainerState, NodeVolume, NodeVolumeSpec,
} from '../../ports/container-runtime';
import { DockerSystemResources, engineMounts, isPortConflict, parseHostPorts } from './docker-system-resources';
import { DockerNodeVolumes } from './docker-node-volumes';
import { dockerodeOptions, isLoopbackHost, parseEngineAddress } from './docker-endpoint';
import { ExecOutput } from './exec-output';
import { readFirstTarEntry, TarEntry, writeTar } from './tar-archive';

export interface DockerRuntimeOptions {
  /** Budget of one engine call (inspect, create, update …). */
  callTimeoutMs?: number;
  /** Budget for pulling an image the engine does not have. */
  pullTimeoutMs?: number;
}

export const DEFAULT_CALL_TIMEOUT_MS = 30_000;
export const DEFAULT_PULL_TIMEOUT_MS = 600_000;
export const DEFAULT_PING_TIMEOUT_MS = 5_000;
export const DEFAULT_MAX_OUTPUT_BYTES = 64 * 1024;
/** Largest file readFile brings back; the archive is held in memory. */
export const MAX_READ_FILE_BYTES = 64 * 1024 * 1024;

/**
 * Every process started by exec() carries this variable with a value unique to the call. On timeout
 * or cancel a second exec finds the processes by it in /proc and kills them: the command itself
 * runs without a shell, its children inherit the variable and die with it, and only the killing
 * needs `sh`, `grep` and `kill` in the image (busybox has them; an image without a shell keeps the
 * runaway process, and the result still says timedOut).
 */
export const EXEC_MARKER_VARIABLE = 'ECOWARE_EXEC_ID';
/** How long a killed exec's stream may take to close before it is cut. */
const KILL_GRACE_MS = 2_000;
const EXIT_CODE_POLL_MS = 50;
const MIB = 1024 * 1024;
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
  private readonly volumes: DockerNodeVolumes;

  constructor(readonly endpoint: DockerEndpoint, options: DockerRuntimeOptions = {}) {
    this.docker = new Docker(dockerodeOptions(endpoint));
    this.callTimeoutMs = options.callTimeoutMs ?? DEFAULT_CALL_TIMEOUT_MS;
    this.pullTimeoutMs = options.pullTimeoutMs ?? DEFAULT_PULL_TIMEOUT_MS;
    this.systems = new DockerSystemResources(this.docker, (operation, run) => this.call(operation, run));
    this.volumes = new DockerNodeVolumes(this.docker, (operation, run) => this.call(operation, run));
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

  listManaged(): Promise<ManagedContainer[]> {
    return this.inspectManaged();
  }

  async listManagedStates(): Promise<ManagedContainerState[]> {
    const summaries = await this.call('list managed containers', (abortSignal) =>
      this.docker.listContainers({ all: true, filters: { label: [`${LABEL_MANAGED}=true`] }, abortSignal }));
    return summaries.map((s) => ({
      id: s.Id, flatTier: s.Labels?.[LABEL_FLAT_TIER] ?? '', vm: s.Labels?.[LABEL_VM] ?? '', state: s.State ?? 'unknown',
    }));
  }

  async inspectManaged(): Promise<ManagedContainer[]> {
    const summaries = await this.call('list managed containers', (abortSignal) =>
      this.docker.listContainers({ all: true, filters: { label: [`${LABEL_MANAGED}=true`] }, abortSignal }));
    const inspected = await Promise.all(summaries.map((s) => this.inspectIfExists(s.Id, 'inspect managed container')));
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

  removeSystemResources(sid: string, options: { volumes: boolean }): Promise<{ networks: string[]; volumes: string[] }> {
    return this.systems.removeSystemResources(sid, options);
  }

  listSystemVolumes(sid: string): Promise<string[]> {
    return this.systems.listSystemVolumes(sid);
  }

  listVolumes(): Promise<NodeVolume[]> {
    return this.volumes.list();
  }

  createVolume(spec: NodeVolumeSpec): Promise<NodeVolume> {
    return this.volumes.create(spec);
  }

  removeVolume(name: string): Promise<void> {
    return this.volumes.remove(name);
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

  async putFile(id: string, path: string, content: string | Buffer, mode = 0o644): Promise<void> {
    const target = absolutePath(path);
    const operation = `write ${target} in container ${shortId(id)}`;
    await this.assertContainerExists(id, operation);
    // The archive is unpacked into the deepest directory that exists, carrying only the missing ones:
    // a directory entry for an existing directory would reset its owner and mode (/tmp's sticky bit).
    const missing: string[] = [];
    let base = posix.dirname(target);
    while (base !== '/' && !(await this.pathExists(id, base, operation))) {
      missing.unshift(posix.basename(base));
      base = posix.dirname(base);
    }
    const entries: TarEntry[] = missing.map((_, i) => ({
      path: missing.slice(0, i + 1).join('/'), type: 'directory', mode: 0o755,
    }));
    entries.push({
      path: [...missing, posix.basename(target)].join('/'),
      type: 'file',
      mode,
      content: typeof content === 'string' ? Buffer.from(content, 'utf8') : content,
    });
    const archive = writeTar(entries);
    await this.call(operation, (abortSignal) => this.docker.getContainer(id).putArchive(archive, { path: base, abortSignal }));
  }

  async readFile(id: string, path: string): Promise<Buffer> {
    const target = absolutePath(path);
    const operation = `read ${target} from container ${shortId(id)}`;
    const archive = await this.call(operation, async (abortSignal) => {
      const stream = await this.docker.getContainer(id).getArchive({ path: target, abortSignal }) as unknown as Readable;
      return collect(stream, MAX_READ_FILE_BYTES + 64 * 1024);
    });
    const entry = readFirstTarEntry(archive);
    if (!entry) throw new InfrastructureError(`${this.where()}: ${operation}: the engine sent an empty archive`);
    if (entry.typeflag !== '0' && entry.typeflag !== '7') {
      throw new InfrastructureError(`${this.where()}: ${operation}: not a regular file`, 'not_a_file');
    }
    if (entry.content.length > MAX_READ_FILE_BYTES) {
      throw new InfrastructureError(`${this.where()}: ${operation}: larger than ${MAX_READ_FILE_BYTES} bytes`, 'file_too_large');
    }
    return entry.content;
  }

  async exec(id: string, options: ExecOptions): Promise<ExecResult> {
    const startedAt = Date.now();
    const result = (fields: Partial<ExecResult>): ExecResult => ({
      exitCode: null, stdout: '', stderr: '', timedOut: false, cancelled: false, truncated: false,
      ...fields, durationMs: Date.now() - startedAt,
    });
    if (options.argv.length === 0) throw new ValidationError('argv', 'must name a program');
    if (options.signal?.aborted) return result({ cancelled: true });

    const marker = randomBytes(12).toString('hex');
    const env = { ...(options.env ?? {}), [EXEC_MARKER_VARIABLE]: marker };
    const hasStdin = options.stdin !== undefined;
    const { exec, stream } = await this.startExec(id, options.argv, env, options.cwd, hasStdin);
    const output = new ExecOutput(options.maxOutputBytes ?? DEFAULT_MAX_OUTPUT_BYTES);
    const ended = streamEnded(stream, (chunk) => output.push(chunk));
    if (hasStdin) {
      // end() half-closes the connection: the engine closes the process's stdin, so `cat` sees EOF.
      stream.end(typeof options.stdin === 'string' ? Buffer.from(options.stdin, 'utf8') : options.stdin);
    }

    const outcome = await firstOf(ended, options.timeoutMs, options.signal);
    if (outcome !== 'ended') {
      await this.killMarked(id, marker);
      await firstOf(ended, KILL_GRACE_MS);
      stream.destroy();
      return result({ ...output.result(), timedOut: outcome === 'timeout', cancelled: outcome === 'cancelled' });
    }
    const exitCode = await this.exitCodeOf(exec, id);
    return result({ ...output.result(), exitCode });
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

  private async inspectIfExists(idOrName: string, operation: string): Promise<Docker.ContainerInspectInfo | undefined> {
    try {
      return await this.call(operation, (abortSignal) => this.docker.getContainer(idOrName).inspect({ abortSignal }));
    } catch (err) {
      if (err instanceof NotFoundError) return undefined;
      throw err;
    }
  }

  private async inspectManagedById(id: string, operation: string): Promise<ManagedContainer> {
    const info = await this.call(operation, (abortSignal) => this.docker.getContainer(id).inspect({ abortSignal }));
    return toManagedContainer(info);
  }

  private async assertContainerExists(id: string, operation: string): Promise<void> {
    await this.call(operation, (abortSignal) => this.docker.getContainer(id).inspect({ abortSignal }));
  }

  /**
   * A managed container of the same VM already holding the name is a leftover (a crash between
   * create and record, a lost state dir): it is replaced. Anyone else's container is refused and left
   * alone, and so is one labelled for another VM (two nodes sharing one engine): removing it would
   * take down that VM's tier.
   */
  private async removeStaleNamesake(name: string, vm: string, operation: string): Promise<void> {
    const existing = await this.inspectIfExists(name, operation);
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

  private async pathExists(id: string, path: string, operation: string): Promise<boolean> {
    try {
      const response = await this.call(operation, (abortSignal) =>
        this.docker.getContainer(id).infoArchive({ path, abortSignal }) as Promise<Readable>);
      response.resume();
      return true;
    } catch (err) {
      if (err instanceof NotFoundError) return false;
      throw err;
    }
  }

  private async startExec(id: string, argv: string[], env: Record<string, string>, cwd: string | undefined, hasStdin: boolean):
    Promise<{ exec: Docker.Exec; stream: Duplex }> {
    const operation = `exec '${argv[0]}' in container ${shortId(id)}`;
    const exec = await this.call(operation, (abortSignal) => this.docker.getContainer(id).exec({
      Cmd: argv,
      Env: Object.entries(env).map(([key, value]) => `${key}=${value}`),
      WorkingDir: cwd,
      AttachStdin: hasStdin,
      AttachStdout: true,
      AttachStderr: true,
      Tty: false,
      abortSignal,
    }));
    // No abort signal on start: aborting would tear down the attached stream, which outlives the call.
    const stream = await this.call(operation, () => exec.start({ hijack: true, stdin: hasStdin }) as Promise<Duplex>);
    return { exec, stream };
  }

  private async killMarked(id: string, marker: string): Promise<void> {
    // Stop every marked process before killing any: killed one by one, a shell script whose child
    // dies first would go on to its next command before its own turn comes.
    const script = `pids=; for d in /proc/[0-9]*; do
  if grep -q '${EXEC_MARKER_VARIABLE}=${marker}' "$d/environ" 2>/dev/null; then pids="$pids \${d#/proc/}"; fi
done
[ -z "$pids" ] || { kill -STOP $pids 2>/dev/null; kill -9 $pids 2>/dev/null; }; true`;
    try {
      const { stream } = await this.startExec(id, ['sh', '-c', script], {}, undefined, false);
      const ended = streamEnded(stream, () => undefined);
      if ((await firstOf(ended, this.callTimeoutMs)) !== 'ended') stream.destroy();
    } catch {
      // Best effort: the caller reports the timeout or cancel either way.
    }
  }

  /** The stream can close a moment before the engine records the exit code. */
  private async exitCodeOf(exec: Docker.Exec, id: string): Promise<number | null> {
    const deadline = Date.now() + this.callTimeoutMs;
    for (;;) {
      const state = await this.call(`inspect exec in container ${shortId(id)}`, (abortSignal) => exec.inspect({ abortSignal }));
      if (!state.Running && state.ExitCode !== null && state.ExitCode !== undefined) return state.ExitCode;
      if (Date.now() >= deadline) return null;
      await sleep(EXIT_CODE_POLL_MS);
    }
  }
}

export function createDockerRuntime(endpoint: DockerEndpoint): ContainerRuntime {
  return new DockerContainerRuntime(endpoint);
}

/** `"0-3,5"` → `[0, 1, 2, 3, 5]`; empty = no pinning. */
export function parseCpuset(cpusetCpus: string): number[] {
  const cores = new Set<number>();
  for (const part of cpusetCpus.split(',').map((p) => p.trim()).filter(Boolean)) {
    const range = /^(\d+)(?:-(\d+))?$/.exec(part);
    if (!range) throw new InfrastructureError(`unreadable cpuset '${cpusetCpus}'`);
    const from = Number(range[1]);
    const to = range[2] === undefined ? from : Number(range[2]);
    for (let core = from; core <= to; core++) cores.add(core);
  }
  return [...cores].sort((a, b) => a - b);
}

function containerCreateBody(spec: ContainerSpec): Docker.ContainerCreateOptions {
  const memoryBytes = spec.memoryMb * MIB;
  const exposedPorts: Record<string, object> = {};
  const portBindings: Record<string, { HostIp?: string; HostPort: string }[]> = {};
  for (const port of spec.ports) {
    const key = `${port.containerPort}/${port.protocol}`;
    exposedPorts[key] = {};
    (portBindings[key] ??= []).push({ HostPort: String(port.hostPort), ...(port.hostIp ? { HostIp: port.hostIp } : {}) });
  }
  return {
    name: spec.name,
    Image: spec.image,
    // Cmd replaces the image's CMD; the image keeps its own when the tier gives no arguments.
    ...(spec.args.length > 0 ? { Cmd: spec.args } : {}),
    Env: Object.entries(spec.environment).map(([key, value]) => `${key}=${value}`),
    ExposedPorts: exposedPorts,
    Labels: {
      ...(spec.labels ?? {}),
      [LABEL_MANAGED]: 'true',
      [LABEL_APP]: spec.app,
      [LABEL_TIER]: spec.tier,
      [LABEL_FLAT_TIER]: spec.name,
      [LABEL_VM]: spec.vm,
    },
    HostConfig: {
      CpusetCpus: spec.cpuset.join(','),
      Memory: memoryBytes,
      // Swap equal to memory: no swap use, and later resizes never fail on memory > memsw.
      MemorySwap: memoryBytes,
      PortBindings: portBindings,
      ExtraHosts: spec.extraHosts.map((h) => `${h.host}:${h.address}`),
      RestartPolicy: { Name: 'unless-stopped' },
      ...(spec.mounts?.length ? { Mounts: engineMounts(spec.mounts) } : {}),
    },
  };
}

function toManagedContainer(info: Docker.ContainerInspectInfo): ManagedContainer {
  const labels = info.Config?.Labels ?? {};
  const cpusetCpus = info.HostConfig?.CpusetCpus ?? '';
  return {
    id: info.Id,
    name: info.Name.replace(/^\//, ''),
    app: labels[LABEL_APP] ?? '',
    tier: labels[LABEL_TIER] ?? '',
    flatTier: labels[LABEL_FLAT_TIER] ?? '',
    vm: labels[LABEL_VM] ?? '',
    image: info.Config?.Image ?? '',
    state: info.State?.Status ?? 'unknown',
    cpuset: parseCpuset(cpusetCpus),
    cpusetCpus,
    memoryBytes: info.HostConfig?.Memory ?? 0,
    memorySwapBytes: info.HostConfig?.MemorySwap ?? 0,
    health: info.State?.Health?.Status || undefined,
    system: labels[LABEL_SYSTEM] || undefined,
    hostPorts: parseHostPorts(labels[LABEL_HOST_PORTS]),
    exitCode: info.State?.ExitCode,
  };
}

function assertResources(cpuset: number[], memoryMb: number): void {
  if (cpuset.length === 0 || cpuset.some((c) => !Number.isInteger(c) || c < 0)) {
    throw new ValidationError('cpuset', `must list at least one core as non-negative integers, got [${cpuset.join(',')}]`);
  }
  if (!Number.isInteger(memoryMb) || memoryMb <= 0) throw new ValidationError('memoryMb', `must be a positive integer, got ${memoryMb}`);
}

function absolutePath(path: string): string {
  const normalized = posix.normalize(path);
  if (!path.startsWith('/') || normalized === '/' || normalized.endsWith('/')) {
    throw new ValidationError('path', `'${path}' must be an absolute path to a file`);
  }
  return normalized;
}

/** The engine's own words, without dockerode's "(HTTP code 409) unexpected - " prefix. */
function engineMessage(err: unknown): string {
  const e = err as { json?: { message?: unknown }; message?: unknown; code?: unknown } | null;
  if (e && typeof e.json === 'object' && e.json !== null && typeof e.json.message === 'string') return e.json.message.trim();
  const message = typeof e?.message === 'string' ? e.message : String(err);
  return message.replace(/^\(HTTP code \d+\)\s*[^-]*-\s*/, '').trim() || (typeof e?.code === 'string' ? e.code : 'unknown error');
}

function shortId(id: string): string {
  return /^[0-9a-f]{64}$/.test(id) ? id.slice(0, 12) : `'${id}'`;
}

function streamEnded(stream: Duplex, onData: (chunk: Buffer) => void): Promise<void> {
  return new Promise((resolve) => {
    stream.on('data', (chunk: Buffer) => onData(chunk));
    stream.once('end', () => resolve());
    stream.once('close', () => resolve());
    // A write after the process closed its stdin (EPIPE) or a torn connection: the output so far stands.
    stream.once('error', () => resolve());
  });
}

/** Which comes first: the stream's end, the deadline, or the caller's cancel. */
function firstOf(ended: Promise<void>, timeoutMs: number, signal?: AbortSignal): Promise<'ended' | 'timeout' | 'cancelled'> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => finish('timeout'), timeoutMs);
    const onAbort = () => finish('cancelled');
    signal?.addEventListener('abort', onAbort, { once: true });
    if (signal?.aborted) finish('cancelled');
    void ended.then(() => finish('ended'));
    function finish(outcome: 'ended' | 'timeout' | 'cancelled') {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      resolve(outcome);
    }
  });
}

function collect(stream: Readable, maxBytes: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    stream.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > maxBytes) {
        stream.destroy();
        reject(new Error(`archive larger than ${maxBytes} bytes`));
        return;
      }
      chunks.push(chunk);
    });
    stream.once('end', () => resolve(Buffer.concat(chunks)));
    stream.once('error', reject);
  });
}

/** dockerode honours `abortSignal` on ping and info, though its type declarations omit it there. */
function withSignal(docker: Docker, method: 'ping' | 'info'): (options: { abortSignal: AbortSignal }) => Promise<unknown> {
  return (options) => (docker[method] as unknown as (o: { abortSignal: AbortSignal }) => Promise<unknown>).call(docker, options);
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * The host's address on an engine's default bridge: the gateway the engine lists; failing that, the
 * address the bridge interface holds in the bridge's subnet (`interfaces` are this machine's, which
 * is where a local engine's bridge lives); failing that, the subnet's first address.
 */
export function bridgeGatewayAddress(
  bridge: Pick<Docker.NetworkInspectInfo, 'IPAM' | 'Options'>,
  interfaces: NodeJS.Dict<NetworkInterfaceInfo[]>,
): string | undefined {
  const configs = (bridge.IPAM?.Config ?? []) as { Subnet?: string; Gateway?: string }[];
  const listed = configs.find((c) => c.Gateway && isIP(c.Gateway) === 4)?.Gateway ?? configs.find((c) => c.Gateway)?.Gateway;
  if (listed) return listed;
  const subnet = configs.map((c) => (c.Subnet ? parseIpv4Cidr(c.Subnet) : undefined)).find((s) => s !== undefined);
  if (subnet === undefined) return undefined;
  const name = bridge.Options?.['com.docker.network.bridge.name'];
  const own = (name ? interfaces[name] ?? [] : [])
    .find((i) => i.family === 'IPv4' && inSubnet(i.address, subnet));
  if (own) return own.address;
  return ipv4ToString(subnet.network + 1);
}

interface Ipv4Subnet { network: number; bits: number }

function parseIpv4Cidr(cidr: string): Ipv4Subnet | undefined {
  const match = /^(\d+\.\d+\.\d+\.\d+)\/(\d+)$/.exec(cidr.trim());
  if (!match || isIP(match[1]) !== 4) return undefined;
  const bits = Number(match[2]);
  if (bits > 30) return undefined;
  return { network: (ipv4ToNumber(match[1]) & mask(bits)) >>> 0, bits };
}

function inSubnet(address: string, subnet: Ipv4Subnet): boolean {
  return isIP(address) === 4 && ((ipv4ToNumber(address) & mask(subnet.bits)) >>> 0) === subnet.network;
}

function mask(bits: number): number {
  return bits === 0 ? 0 : (~0 << (32 - bits)) >>> 0;
}

function ipv4ToNumber(address: string): number {
  return address.split('.').reduce((n, octet) => n * 256 + Number(octet), 0);
}

function ipv4ToString(n: number): string {
  return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
}

/** A host name resolved to one address (IPv4 first); an address is returned as it is. */
async function resolveHost(host: string, url: string): Promise<string> {
  if (isIP(host)) return host;
  try {
    const addresses = await lookup(host, { all: true });
    const chosen = addresses.find((a) => a.family === 4) ?? addresses[0];
    if (!chosen) throw new Error('no address');
    return chosen.address;
  } catch (err) {
    throw new InfrastructureError(`docker endpoint ${url}: cannot resolve '${host}': ${(err as Error).message}`, 'infrastructure', err);
  }
}

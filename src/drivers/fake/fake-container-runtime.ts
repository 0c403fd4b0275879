import { SystemMount } from '../../domain/system-tier';
import { ConflictError, NotFoundError, UnsatisfiableError } from '../../domain/errors';
import { EngineEndpoint } from '../../domain/vm';
import {
  ContainerRuntime, ContainerRuntimeFactory, ContainerSpec, EngineInfo, ExecOptions, ExecResult, ManagedContainer, ManagedContainerState,
  NodeVolume, RuntimeImages, RuntimeSystemNetworks, RuntimeTasks, RuntimeVolumes,
} from '../../ports/container-runtime';
import { FakeImages } from './fake-images';
import { FakeTaskBehaviour, FakeTasks } from './fake-tasks';

/** One call a fake received, in order. */
export interface FakeCall {
  op: string;
  /** The container or VM it was about (name for create, id otherwise). */
  target?: string;
  at: number;
}

/** A volume of a fake node. */
interface FakeVolume { name: string; driver: string; driver_opts: Record<string, string>; labels: Record<string, string> }

/** The fake's own marks on the volumes it makes: made by the daemon, and of which system (Docker's driver has its labels). */
const MANAGED = 'managed';
const SYSTEM = 'system';

/**
 * An engine in memory, for fast tests of what sits above the port: it keeps the containers it was
 * asked to create, records every call, and fails the next call of an operation when told to.
 * It has every capability of the port: node volumes (with the containers that mount them) and the
 * networks, volumes and host ports of systems; a system container with a healthcheck is healthy at
 * once. Tasks and images are in memory too (fake-tasks.ts, fake-images.ts): a task does what
 * `tasks.behaviour` says, a build succeeds unless `images.buildBehaviour` says otherwise. The
 * contract suites (test/support/runtime-contract.ts, jobs-runtime-contract.ts) hold it to what
 * Docker does.
 * Nothing here talks to Docker.
 */
export class FakeContainerRuntime implements ContainerRuntime {
  readonly calls: FakeCall[] = [];
  readonly containers = new Map<string, ManagedContainer>();
  /** Cores are pinned as asked; set false to stand for a runtime that cannot pin them (no cpuset, `cpuCores` instead). */
  pinsCores = true;
  /** Node volumes by name. */
  readonly nodeVolumes = new Map<string, FakeVolume>();
  /** System networks by name, with the sid of their system. */
  readonly networks = new Map<string, { sid: string }>();
  /** The mounts of each container, by id. */
  private readonly mounts = new Map<string, readonly SystemMount[]>();
  /** Files written with `putFile`, by `id:path`. */
  readonly files = new Map<string, Buffer>();
  /** What `exec` answers; by default a process that exits 0. */
  execResult: (id: string, options: ExecOptions) => Partial<ExecResult> = () => ({ exitCode: 0 });
  /** Wait this long in each mutating call (create, update, remove), to let tests see ordering and cancel. */
  delayMs = 0;
  /** What `hostAddress` answers: the endpoint's host name. */
  address?: string;
  private readonly failures = new Map<string, Error[]>();
  private sequence = 0;

  /** Run-to-completion containers: set `tasks.behaviour` to say what a task does. */
  readonly tasks: FakeTasks;
  /** Images by reference: set `images.buildBehaviour` to make builds fail. */
  readonly images: FakeImages;

  /** What a started task does (the same as `tasks.behaviour`). */
  get taskBehaviour(): FakeTaskBehaviour { return this.tasks.behaviour; }
  set taskBehaviour(behaviour: FakeTaskBehaviour) { this.tasks.behaviour = behaviour; }

  constructor(readonly endpoint: EngineEndpoint = { kind: 'docker', url: 'fake://engine' }, private readonly engine: EngineInfo = { cpus: 64, memoryBytes: 256 * 2 ** 30, serverVersion: 'fake' }) {
    this.address = /^[a-z]+:\/\/([^/:]+)/.exec(endpoint.url)?.[1];
    const enter = (op: string, target?: string) => this.enter(op, target);
    this.tasks = new FakeTasks(enter, 'fake');
    this.images = new FakeImages(enter, (ref) => this.tasks.usesImage(ref), 'fake');
  }

  readonly volumes: RuntimeVolumes = {
    list: async () => {
      await this.enter('volumes.list');
      return [...this.nodeVolumes.values()].sort((a, b) => a.name.localeCompare(b.name)).map((v) => this.nodeVolumeOf(v));
    },
    create: async (spec) => {
      await this.enter('volumes.create', spec.name);
      const volume = { name: spec.name, driver: spec.driver, driver_opts: { ...spec.driverOpts }, labels: { ...spec.labels, [MANAGED]: 'true' } };
      this.nodeVolumes.set(spec.name, volume);
      return this.nodeVolumeOf(volume);
    },
    remove: async (name) => {
      await this.enter('volumes.remove', name);
      if (!this.nodeVolumes.has(name)) throw new NotFoundError(`${this.endpoint.url}: no such volume: ${name}`);
      const using = this.usersOf(name);
      if (using.length > 0) throw new ConflictError(`volume '${name}' is in use by container(s) ${using.map((c) => `'${c}'`).join(', ')}`);
      this.nodeVolumes.delete(name);
    },
  };

  readonly systemNetworks: RuntimeSystemNetworks = {
    remove: async (sid, options) => {
      await this.enter('systemNetworks.remove', sid);
      const networks = [...this.networks].filter(([, n]) => n.sid === sid).map(([name]) => name).sort();
      for (const name of networks) this.networks.delete(name);
      const volumes = options.volumes ? this.systemVolumes(sid) : [];
      for (const name of volumes) this.nodeVolumes.delete(name);
      return { networks, volumes };
    },
    listVolumes: async (sid) => {
      await this.enter('systemNetworks.listVolumes', sid);
      return this.systemVolumes(sid);
    },
  };

  /** The next call of `op` (a method name, or `volumes.create` …) rejects with `error` (queued: several calls fail in turn). */
  failNext(
    op: keyof ContainerRuntime | `volumes.${keyof RuntimeVolumes}` | `systemNetworks.${keyof RuntimeSystemNetworks}`
      | `tasks.${keyof RuntimeTasks}` | `images.${keyof RuntimeImages}`,
    error: Error,
  ): void {
    this.failures.set(op, [...(this.failures.get(op) ?? []), error]);
  }

  async ping(): Promise<void> { await this.enter('ping'); }

  async info(): Promise<EngineInfo> {
    await this.enter('info');
    return { ...this.engine };
  }

  async hostAddress(): Promise<string | undefined> {
    await this.enter('hostAddress');
    return this.address;
  }

  async listManaged(): Promise<ManagedContainer[]> {
    await this.enter('listManaged');
    return [...this.containers.values()].map((c) => ({ ...c }));
  }

  async listManagedStates(): Promise<ManagedContainerState[]> {
    await this.enter('listManagedStates');
    return [...this.containers.values()].map((c) => ({ id: c.id, flatTier: c.flatTier, vm: c.vm, state: c.state }));
  }

  async start(id: string): Promise<ManagedContainer> {
    await this.enter('start', id);
    const c = this.require(id);
    c.state = 'running';
    return { ...c };
  }

  async create(spec: ContainerSpec): Promise<ManagedContainer> {
    await this.enter('create', spec.name);
    for (const [id, c] of this.containers) if (c.name === spec.name) this.forget(id);
    const system = spec.system;
    this.ensureVolumes(spec.mounts ?? [], {});
    if (system) {
      if (!this.networks.has(system.network)) this.networks.set(system.network, { sid: system.sid });
      this.ensureVolumes(system.mounts, { [SYSTEM]: system.sid });
    }
    const cpuset = this.pinsCores ? [...spec.cpuset].sort((a, b) => a - b) : [];
    const container: ManagedContainer = {
      id: `fake${++this.sequence}`, name: spec.name, app: spec.app, tier: spec.tier, flatTier: spec.name, vm: spec.vm,
      image: spec.image, state: 'running', cpuset, cpusetCpus: cpuset.join(','), ...(this.pinsCores ? {} : { cpuCores: spec.cpuset.length }),
      memoryBytes: spec.memoryMb * 2 ** 20, memorySwapBytes: spec.memoryMb * 2 ** 20,
      ...(system ? { system: system.sid, hostPorts: this.chooseHostPorts(system), ...(system.healthcheck ? { health: 'healthy' } : {}) } : {}),
    };
    this.containers.set(container.id, container);
    this.mounts.set(container.id, [...(spec.mounts ?? []), ...(system?.mounts ?? [])]);
    return { ...container };
  }

  async update(id: string, change: { cpuset: number[]; memoryMb: number }): Promise<ManagedContainer> {
    await this.enter('update', id);
    const c = this.require(id);
    const cpuset = this.pinsCores ? [...change.cpuset].sort((a, b) => a - b) : [];
    Object.assign(c, {
      cpuset, cpusetCpus: cpuset.join(','), ...(this.pinsCores ? {} : { cpuCores: change.cpuset.length }),
      memoryBytes: change.memoryMb * 2 ** 20, memorySwapBytes: change.memoryMb * 2 ** 20,
    });
    return { ...c };
  }

  async remove(id: string): Promise<void> {
    await this.enter('remove', id);
    this.forget(id);
  }

  async putFile(id: string, path: string, content: string | Buffer): Promise<void> {
    await this.enter('putFile', id);
    this.require(id);
    this.files.set(`${id}:${path}`, Buffer.from(content));
  }

  async readFile(id: string, path: string): Promise<Buffer> {
    await this.enter('readFile', id);
    this.require(id);
    const file = this.files.get(`${id}:${path}`);
    if (!file) throw new NotFoundError(`no file ${path} in container ${id}`);
    return file;
  }

  async exec(id: string, options: ExecOptions): Promise<ExecResult> {
    await this.enter('exec', id);
    this.require(id);
    return { exitCode: 0, stdout: '', stderr: '', timedOut: false, cancelled: false, truncated: false, durationMs: 0, ...this.execResult(id, options) };
  }

  /** The calls of one operation, in order. */
  callsOf(op: string): FakeCall[] {
    return this.calls.filter((c) => c.op === op);
  }

  private async enter(op: string, target?: string): Promise<void> {
    this.calls.push({ op, target, at: this.calls.length });
    const queued = this.failures.get(op);
    const failure = queued?.shift();
    if (queued && queued.length === 0) this.failures.delete(op);
    if (this.delayMs > 0 && (op === 'create' || op === 'update' || op === 'remove')) await new Promise((r) => setTimeout(r, this.delayMs));
    if (failure) throw failure;
  }

  private require(id: string): ManagedContainer {
    const c = this.containers.get(id);
    if (!c) throw new NotFoundError(`no such container: ${id}`);
    return c;
  }

  private forget(id: string): void {
    this.containers.delete(id);
    this.mounts.delete(id);
  }

  /** Named volumes of the mounts the node lacks are created, labelled managed; an external one must exist. */
  private ensureVolumes(mounts: readonly SystemMount[], labels: Record<string, string>): void {
    for (const m of mounts) {
      if (m.type !== 'volume' || this.nodeVolumes.has(m.volume)) continue;
      if (m.external) throw new UnsatisfiableError(`external volume '${m.volume}' does not exist on this node`);
      this.nodeVolumes.set(m.volume, { name: m.volume, driver: m.driver ?? 'local', driver_opts: { ...m.driverOpts }, labels: { ...labels, [MANAGED]: 'true' } });
    }
  }

  /** The lowest free ports of the range (a preferred one when free), never one another container holds. */
  private chooseHostPorts(system: NonNullable<ContainerSpec['system']>): Record<string, number> {
    const used = new Set([...this.containers.values()].flatMap((c) => Object.values(c.hostPorts ?? {})));
    const { first, last } = system.hostPortRange;
    const chosen: Record<string, number> = {};
    for (const p of system.publish) {
      const key = `${p.containerPort}/${p.protocol}`;
      const preferred = system.preferredHostPorts[key];
      let port = first;
      if (preferred !== undefined && preferred >= first && preferred <= last && !used.has(preferred)) port = preferred;
      else while (port <= last && used.has(port)) port++;
      if (port > last) throw new UnsatisfiableError(`no free host port left in ${first}-${last} on this node`);
      used.add(port);
      chosen[key] = port;
    }
    return chosen;
  }

  private usersOf(volume: string): string[] {
    return [...this.mounts].filter(([, mounts]) => mounts.some((m) => m.type === 'volume' && m.volume === volume))
      .map(([id]) => this.containers.get(id)!.name).sort();
  }

  private systemVolumes(sid: string): string[] {
    return [...this.nodeVolumes.values()].filter((v) => v.labels[SYSTEM] === sid).map((v) => v.name).sort();
  }

  private nodeVolumeOf(v: FakeVolume): NodeVolume {
    return { ...v, driver_opts: { ...v.driver_opts }, labels: { ...v.labels }, managed: v.labels[MANAGED] === 'true', used_by: this.usersOf(v.name) };
  }
}

/** One fake engine per endpoint URL, as the daemon keeps one client per endpoint. */
export class FakeEngines {
  readonly engines = new Map<string, FakeContainerRuntime>();

  readonly runtimeFor: ContainerRuntimeFactory = ({ engine }) => this.engine(engine.url);

  engine(url: string): FakeContainerRuntime {
    let engine = this.engines.get(url);
    if (!engine) this.engines.set(url, (engine = new FakeContainerRuntime({ kind: 'docker', url })));
    return engine;
  }

  /** Every call to every engine, in the order they happened across engines. */
  get calls(): (FakeCall & { engine: string })[] {
    return [...this.engines.entries()].flatMap(([engine, e]) => e.calls.map((c) => ({ ...c, engine })));
  }
}

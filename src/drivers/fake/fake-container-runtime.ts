import { EngineEndpoint } from '../../domain/vm';
import {
  ContainerRuntime, ContainerRuntimeFactory, ContainerSpec, EngineInfo, ExecOptions, ExecResult, ManagedContainer, ManagedContainerState,
} from '../../ports/container-runtime';

/** One call a fake received, in order. */
export interface FakeCall {
  op: string;
  /** The container or VM it was about (name for create, id otherwise). */
  target?: string;
  at: number;
}

/**
 * An engine in memory, for fast tests of what sits above the port: it keeps the containers it was
 * asked to create, records every call, and fails the next call of an operation when told to.
 * Nothing here talks to Docker.
 */
export class FakeContainerRuntime implements ContainerRuntime {
  readonly calls: FakeCall[] = [];
  readonly containers = new Map<string, ManagedContainer>();
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

  constructor(readonly endpoint: EngineEndpoint = { kind: 'docker', url: 'fake://engine' }, private readonly engine: EngineInfo = { cpus: 64, memoryBytes: 256 * 2 ** 30, serverVersion: 'fake' }) {
    this.address = /^[a-z]+:\/\/([^/:]+)/.exec(endpoint.url)?.[1];
  }

  /** The next call of `op` rejects with `error` (queued: several calls fail in turn). */
  failNext(op: keyof ContainerRuntime, error: Error): void {
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

  async inspectManaged(): Promise<ManagedContainer[]> {
    await this.enter('inspectManaged');
    return [...this.containers.values()].map((c) => ({ ...c }));
  }

  async create(spec: ContainerSpec): Promise<ManagedContainer> {
    await this.enter('create', spec.name);
    for (const [id, c] of this.containers) if (c.name === spec.name) this.containers.delete(id);
    const container: ManagedContainer = {
      id: `fake${++this.sequence}`, name: spec.name, app: spec.app, tier: spec.tier, flatTier: spec.name, vm: spec.vm,
      image: spec.image, state: 'running', cpuset: [...spec.cpuset].sort((a, b) => a - b), cpusetCpus: spec.cpuset.join(','),
      memoryBytes: spec.memoryMb * 2 ** 20, memorySwapBytes: spec.memoryMb * 2 ** 20,
    };
    this.containers.set(container.id, container);
    return { ...container };
  }

  async update(id: string, change: { cpuset: number[]; memoryMb: number }): Promise<ManagedContainer> {
    await this.enter('update', id);
    const c = this.require(id);
    Object.assign(c, {
      cpuset: [...change.cpuset].sort((a, b) => a - b), cpusetCpus: change.cpuset.join(','),
      memoryBytes: change.memoryMb * 2 ** 20, memorySwapBytes: change.memoryMb * 2 ** 20,
    });
    return { ...c };
  }

  async remove(id: string): Promise<void> {
    await this.enter('remove', id);
    this.containers.delete(id);
  }

  async putFile(id: string, path: string, content: string | Buffer): Promise<void> {
    await this.enter('putFile', id);
    this.require(id);
    this.files.set(`${id}:${path}`, Buffer.from(content));
  }

  async readFile(id: string, path: string): Promise<Buffer> {
    await this.enter('readFile', id);
    const file = this.files.get(`${id}:${path}`);
    if (!file) throw new Error(`no file ${path} in container ${id}`);
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
    if (!c) throw new Error(`no such container: ${id}`);
    return c;
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

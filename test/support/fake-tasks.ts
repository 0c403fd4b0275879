import { Vm } from '../../src/domain/vm';
import { ContainerRuntime, ContainerRuntimeFactory, ImageBuildResult, ImageBuildSpec, RuntimeTasks, TaskSpec, TaskState, TaskStream } from '../../src/ports/container-runtime';
import { TemplateImages } from '../../src/use-cases/jobs/job-templates';

interface FakeTask {
  state: TaskState;
  spec: TaskSpec;
  files: Map<string, Buffer>;
  chunks: { stream: TaskStream; data: Buffer }[];
  followers: Set<(stream: TaskStream, data: Buffer) => void>;
  endListeners: Set<() => void>;
}

/**
 * Task containers in memory, one engine per endpoint URL, for unit tests of jobs. A test ends a task
 * with `finish` (exit code, output file, oom) and writes its output with `emit`; `stop` ends it at
 * once with 143 (SIGTERM). `down` makes an engine refuse every call, as an engine that stopped.
 */
export class FakeTaskEngines {
  readonly engines = new Map<string, FakeTaskEngine>();
  /** Every task ever started, by name, on whichever engine. */
  readonly started: string[] = [];

  engine(url: string): FakeTaskEngine {
    let e = this.engines.get(url);
    if (!e) this.engines.set(url, (e = new FakeTaskEngine(url, this.started)));
    return e;
  }

  /** A runtime with only `tasks` (what jobs use of a runtime). */
  readonly runtimeFor: ContainerRuntimeFactory = (vm) => ({ tasks: this.engine(vm.engine.url) }) as unknown as ContainerRuntime;

  /** Every task of every engine that has not exited. */
  runningTasks(): { engine: string; task: TaskState; spec: TaskSpec }[] {
    return [...this.engines.values()].flatMap((e) => [...e.tasks.values()].filter((t) => t.state.state === 'running').map((t) => ({ engine: e.url, task: t.state, spec: t.spec })));
  }

  find(name: string): { engine: FakeTaskEngine; task: FakeTask } | undefined {
    for (const engine of this.engines.values()) {
      const task = [...engine.tasks.values()].find((t) => t.state.name === name);
      if (task) return { engine, task };
    }
    return undefined;
  }

  finish(name: string, exitCode: number, extra: { output?: string; oom?: boolean } = {}): void {
    const found = this.find(name);
    if (!found) throw new Error(`no task ${name}`);
    found.engine.end(found.task, exitCode, extra);
  }
}

export class FakeTaskEngine implements RuntimeTasks {
  readonly tasks = new Map<string, FakeTask>();
  private n = 0;
  isDown = false;

  constructor(readonly url: string, private readonly started: string[]) {}

  private check(): void {
    if (this.isDown) throw new Error(`engine ${this.url} does not answer`);
  }

  async start(spec: TaskSpec): Promise<TaskState> {
    this.check();
    for (const [id, t] of this.tasks) if (t.state.name === spec.name) this.tasks.delete(id);
    const id = `task${++this.n}-${this.url}`;
    const task: FakeTask = {
      state: { id, name: spec.name, labels: { ...spec.labels }, state: 'running', cpuset: [...spec.cpuset], memoryBytes: spec.memoryMb * 1024 * 1024, startedAt: new Date().toISOString() },
      spec, files: new Map((spec.files ?? []).map((f) => [f.path, f.content])), chunks: [], followers: new Set(), endListeners: new Set(),
    };
    this.tasks.set(id, task);
    this.started.push(spec.name);
    return { ...task.state };
  }

  async wait(id: string, signal?: AbortSignal): Promise<TaskState> {
    this.check();
    const task = this.tasks.get(id);
    if (!task) throw new Error(`no such container ${id}`);
    if (task.state.state === 'exited') return { ...task.state };
    return new Promise((resolve, reject) => {
      const done = () => { signal?.removeEventListener('abort', abort); resolve({ ...task.state }); };
      const abort = () => { task.endListeners.delete(done); reject(signal?.reason ?? new Error('aborted')); };
      if (signal?.aborted) { abort(); return; }
      signal?.addEventListener('abort', abort, { once: true });
      task.endListeners.add(done);
    });
  }

  async inspect(id: string): Promise<TaskState | undefined> {
    this.check();
    const task = this.tasks.get(id);
    return task ? { ...task.state } : undefined;
  }

  async logs(id: string, options: { follow: boolean; since?: number; signal?: AbortSignal; onChunk: (stream: TaskStream, data: Buffer) => void }): Promise<void> {
    this.check();
    const task = this.tasks.get(id);
    if (!task) throw new Error(`no such container ${id}`);
    for (const c of task.chunks) options.onChunk(c.stream, c.data);
    if (!options.follow || task.state.state === 'exited') return;
    await new Promise<void>((resolve) => {
      const end = () => { task.followers.delete(options.onChunk); task.endListeners.delete(end); resolve(); };
      task.followers.add(options.onChunk);
      task.endListeners.add(end);
      options.signal?.addEventListener('abort', end, { once: true });
    });
  }

  async stop(id: string): Promise<void> {
    this.check();
    const task = this.tasks.get(id);
    if (task && task.state.state === 'running') this.end(task, 143, {});
  }

  async readFile(id: string, path: string, maxBytes: number): Promise<{ content: Buffer; truncated: boolean } | undefined> {
    this.check();
    const content = this.tasks.get(id)?.files.get(path);
    if (!content) return undefined;
    return { content: content.subarray(0, maxBytes), truncated: content.length > maxBytes };
  }

  async list(): Promise<TaskState[]> {
    this.check();
    return [...this.tasks.values()].map((t) => ({ ...t.state }));
  }

  async remove(id: string): Promise<void> {
    this.check();
    this.tasks.delete(id);
  }

  emit(name: string, stream: TaskStream, text: string): void {
    const task = [...this.tasks.values()].find((t) => t.state.name === name)!;
    const data = Buffer.from(text);
    task.chunks.push({ stream, data });
    for (const f of task.followers) f(stream, data);
  }

  end(task: FakeTask, exitCode: number, extra: { output?: string; oom?: boolean }): void {
    if (extra.output !== undefined) task.files.set('/ecoware/output', Buffer.from(extra.output));
    Object.assign(task.state, { state: 'exited', exitCode, finishedAt: new Date().toISOString(), ...(extra.oom ? { oomKilled: true } : {}) });
    for (const listener of [...task.endListeners]) listener();
  }
}

/** Images by node in memory: `whereIs` answers the nodes given `present`, `ensureOn` records what it was asked. */
export class FakeTemplateImages implements TemplateImages {
  readonly present = new Map<string, Set<string>>();
  readonly ensured: { ref: string; target: string }[] = [];
  readonly builds: { node: string; spec: ImageBuildSpec }[] = [];
  buildResult: ImageBuildResult = { exitCode: 0, checkExitCode: 0, output: '', imageId: 'sha256:built' };

  put(ref: string, node: string): void {
    if (!this.present.has(ref)) this.present.set(ref, new Set());
    this.present.get(ref)!.add(node);
  }

  async build(node: Vm, spec: ImageBuildSpec): Promise<ImageBuildResult> {
    this.builds.push({ node: node.name, spec });
    if (this.buildResult.exitCode === 0 && this.buildResult.checkExitCode !== 1) this.put(spec.ref, node.name);
    return this.buildResult;
  }

  async ensureOn(ref: string, target: Vm): Promise<'present' | 'copied'> {
    this.ensured.push({ ref, target: target.name });
    const had = this.present.get(ref)?.has(target.name) ?? false;
    if (!had && !this.present.has(ref)) throw new Error(`image '${ref}' is on no node`);
    this.put(ref, target.name);
    return had ? 'present' : 'copied';
  }

  async whereIs(ref: string, nodes: readonly Vm[]): Promise<string[]> {
    return nodes.map((n) => n.name).filter((n) => this.present.get(ref)?.has(n));
  }
}

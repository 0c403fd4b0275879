import { NotFoundError, ValidationError } from '../../domain/errors';
import { RuntimeTasks, TaskSpec, TaskState, TaskStream } from '../../ports/container-runtime';

/** What a fake task does once started; every field is optional (a process that exits 0 at once, silent). */
export interface FakeTaskOutcome {
  /** Default 0; a task killed for its memory exits 137 unless told otherwise. */
  exitCode?: number;
  /** Printed at the start. */
  stdout?: string | Buffer;
  stderr?: string | Buffer;
  /** Printed this long after the start (a task that exits earlier never prints it). */
  later?: { atMs: number; stream: TaskStream; data: string | Buffer }[];
  /** How long it runs before it exits on its own (default 0: at once, on the next turn of the event loop). */
  durationMs?: number;
  /** It ends killed for going over its memory limit. */
  oomKilled?: boolean;
  /** Written to /ecoware/output as it exits. */
  outputFile?: string | Buffer;
  /** On SIGTERM: `exit` (default) with `termExitCode` (default 143), or `ignore` it and be killed after the grace (137). */
  onTerm?: 'exit' | 'ignore';
  termExitCode?: number;
  /** Printed on SIGTERM before it exits. */
  termStdout?: string;
}

/** Decides what a started task does, from its spec (argv, stdin, files …). */
export type FakeTaskBehaviour = (spec: TaskSpec) => FakeTaskOutcome;

interface FakeTask {
  id: string;
  spec: TaskSpec;
  state: 'running' | 'exited';
  startedAt: string;
  finishedAt?: string;
  exitCode?: number;
  oomKilled?: boolean;
  output: { stream: TaskStream; data: Buffer; at: number }[];
  files: Map<string, Buffer>;
  timers: NodeJS.Timeout[];
  /** Called on every new output and on the exit. */
  listeners: Set<() => void>;
  outcome: FakeTaskOutcome;
}

/** The default path of a task's output file. */
const OUTPUT_FILE = '/ecoware/output';
const SIGKILL_EXIT_CODE = 137;
const SIGTERM_EXIT_CODE = 143;

/**
 * Tasks of a fake engine, in memory: each "runs" what `behaviour` says for its spec, with real timers
 * (jest's fake timers drive them too). Stop, wait, logs (with follow and since), readFile, list and
 * remove answer as Docker's do (test/support/jobs-runtime-contract.ts holds both to it).
 */
export class FakeTasks implements RuntimeTasks {
  behaviour: FakeTaskBehaviour = () => ({});
  readonly tasks = new Map<string, FakeTask>();
  private sequence = 0;

  constructor(
    /** Records the call and throws a failure queued for it (FakeContainerRuntime.failNext). */
    private readonly enter: (op: string, target?: string) => Promise<void>,
    private readonly prefix: string,
  ) {}

  async start(spec: TaskSpec): Promise<TaskState> {
    await this.enter('tasks.start', spec.name);
    if (spec.cpuset.length === 0) throw new ValidationError('cpuset', 'must list at least one core');
    if (!Number.isInteger(spec.memoryMb) || spec.memoryMb <= 0) throw new ValidationError('memoryMb', `must be a positive integer, got ${spec.memoryMb}`);
    for (const [id, t] of this.tasks) if (t.spec.name === spec.name) this.forget(id);
    const outcome = this.behaviour(spec);
    const task: FakeTask = {
      id: `${this.prefix}task${++this.sequence}`, spec: { ...spec, labels: { ...spec.labels } }, state: 'running',
      startedAt: new Date().toISOString(), output: [], files: new Map((spec.files ?? []).map((f) => [f.path, Buffer.from(f.content)])),
      timers: [], listeners: new Set(), outcome,
    };
    this.tasks.set(task.id, task);
    if (outcome.stdout !== undefined) this.print(task, 'stdout', outcome.stdout);
    if (outcome.stderr !== undefined) this.print(task, 'stderr', outcome.stderr);
    for (const piece of outcome.later ?? []) task.timers.push(setTimeout(() => this.print(task, piece.stream, piece.data), piece.atMs));
    task.timers.push(setTimeout(() => {
      if (outcome.outputFile !== undefined) task.files.set(OUTPUT_FILE, Buffer.from(outcome.outputFile));
      this.exit(task, outcome.exitCode ?? (outcome.oomKilled ? SIGKILL_EXIT_CODE : 0), outcome.oomKilled === true);
    }, outcome.durationMs ?? 0));
    return this.stateOf(task);
  }

  async wait(id: string, signal?: AbortSignal): Promise<TaskState> {
    await this.enter('tasks.wait', id);
    signal?.throwIfAborted();
    const task = this.require(id);
    if (task.state === 'running') {
      await new Promise<void>((resolve, reject) => {
        const check = () => {
          if (!this.tasks.has(id)) finish(new NotFoundError(`task ${id} was removed while waited for`));
          else if (task.state !== 'running') finish();
        };
        const onAbort = () => finish(signal!.reason);
        const finish = (err?: unknown) => {
          task.listeners.delete(check);
          signal?.removeEventListener('abort', onAbort);
          if (err !== undefined) reject(err);
          else resolve();
        };
        task.listeners.add(check);
        signal?.addEventListener('abort', onAbort, { once: true });
      });
    }
    return this.stateOf(task);
  }

  async inspect(id: string): Promise<TaskState | undefined> {
    await this.enter('tasks.inspect', id);
    const task = this.tasks.get(id);
    return task && this.stateOf(task);
  }

  async logs(id: string, options: { follow: boolean; since?: number; signal?: AbortSignal; onChunk: (stream: TaskStream, data: Buffer) => void }): Promise<void> {
    await this.enter('tasks.logs', id);
    const task = this.require(id);
    if (options.signal?.aborted) return;
    let sent = 0;
    const send = () => {
      for (; sent < task.output.length; sent++) {
        const piece = task.output[sent]!;
        if (options.since === undefined || piece.at >= options.since) options.onChunk(piece.stream, Buffer.from(piece.data));
      }
    };
    send();
    if (!options.follow || task.state !== 'running') return;
    await new Promise<void>((resolve) => {
      const onEvent = () => {
        send();
        if (task.state !== 'running' || !this.tasks.has(id)) finish();
      };
      const finish = () => {
        task.listeners.delete(onEvent);
        options.signal?.removeEventListener('abort', finish);
        resolve();
      };
      task.listeners.add(onEvent);
      options.signal?.addEventListener('abort', finish, { once: true });
    });
  }

  async stop(id: string, graceS: number): Promise<void> {
    await this.enter('tasks.stop', id);
    const task = this.tasks.get(id);
    if (!task || task.state !== 'running') return;
    if (task.outcome.onTerm === 'ignore') {
      await new Promise((resolve) => setTimeout(resolve, Math.max(0, graceS) * 1000));
      if (task.state === 'running') this.exit(task, SIGKILL_EXIT_CODE, false);
      return;
    }
    if (task.outcome.termStdout !== undefined) this.print(task, 'stdout', task.outcome.termStdout);
    this.exit(task, task.outcome.termExitCode ?? SIGTERM_EXIT_CODE, false);
  }

  async readFile(id: string, path: string, maxBytes: number): Promise<{ content: Buffer; truncated: boolean } | undefined> {
    await this.enter('tasks.readFile', id);
    const file = this.require(id).files.get(path);
    if (!file) return undefined;
    return { content: Buffer.from(file.subarray(0, maxBytes)), truncated: file.length > maxBytes };
  }

  async list(): Promise<TaskState[]> {
    await this.enter('tasks.list');
    return [...this.tasks.values()].map((t) => this.stateOf(t)).sort((a, b) => a.name.localeCompare(b.name));
  }

  async remove(id: string): Promise<void> {
    await this.enter('tasks.remove', id);
    this.forget(id);
  }

  /** Whether a task (running or exited, not removed) was made from `image`. */
  usesImage(image: string): boolean {
    return [...this.tasks.values()].some((t) => t.spec.image === image);
  }

  private print(task: FakeTask, stream: TaskStream, data: string | Buffer): void {
    if (task.state !== 'running') return;
    task.output.push({ stream, data: Buffer.from(data), at: Date.now() });
    for (const listener of [...task.listeners]) listener();
  }

  private exit(task: FakeTask, exitCode: number, oomKilled: boolean): void {
    if (task.state !== 'running') return;
    for (const timer of task.timers) clearTimeout(timer);
    Object.assign(task, { state: 'exited', exitCode, oomKilled, finishedAt: new Date().toISOString() });
    for (const listener of [...task.listeners]) listener();
  }

  private forget(id: string): void {
    const task = this.tasks.get(id);
    if (!task) return;
    for (const timer of task.timers) clearTimeout(timer);
    this.tasks.delete(id);
    for (const listener of [...task.listeners]) listener();
  }

  private require(id: string): FakeTask {
    const task = this.tasks.get(id);
    if (!task) throw new NotFoundError(`no such task: ${id}`);
    return task;
  }

  private stateOf(task: FakeTask): TaskState {
    const cpuset = [...task.spec.cpuset].sort((a, b) => a - b);
    return {
      id: task.id, name: task.spec.name, labels: { ...task.spec.labels }, state: task.state, cpuset,
      memoryBytes: task.spec.memoryMb * 2 ** 20, startedAt: task.startedAt,
      ...(task.finishedAt ? { finishedAt: task.finishedAt } : {}),
      ...(task.state === 'exited' ? { exitCode: task.exitCode, oomKilled: task.oomKilled === true } : {}),
    };
  }
}

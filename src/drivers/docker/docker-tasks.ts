import type { Duplex, Readable } from 'node:stream';
import Docker from 'dockerode';
import { ConflictError, InfrastructureError, NotFoundError, ValidationError } from '../../domain/errors';
import { RuntimeTasks, TaskSpec, TaskState, TaskStream } from '../../ports/container-runtime';
import { assertResources, MIB, parseCpuset, shortId } from './docker-container-body';
import { DockerExec } from './docker-exec';
import { EngineCall, inspectIfExists } from './engine-call';
import { FrameSplitter } from './exec-output';
import { LABEL_MANAGED, LABEL_TASK } from './labels';
import { readFirstTarEntryHead } from './tar-archive';

/** Room for the tar headers (pax, long names) in front of a file read up to a limit. */
const TAR_HEADROOM_BYTES = 64 * 1024;
/** Docker's `FinishedAt` / `StartedAt` of a container that never started or never ended. */
const ZERO_TIME = '0001-01-01T00:00:00Z';

/**
 * Run-to-completion containers of one engine (jobs' attempts). A task carries LABEL_TASK and the
 * spec's labels, never the managed marks, and no restart policy: once it exits it stays exited
 * until removed. Its stdin is attached before the start and closed once written, so the process
 * reads the input to its end; its files are put into the created container before the start.
 */
export class DockerTasks implements RuntimeTasks {
  constructor(
    private readonly docker: Docker,
    private readonly call: EngineCall,
    private readonly io: DockerExec,
    /** Pulls an image the engine lacks (like `docker run`). */
    private readonly pull: (image: string) => Promise<void>,
    private readonly callTimeoutMs: number,
  ) {}

  async start(spec: TaskSpec): Promise<TaskState> {
    assertResources(spec.cpuset, spec.memoryMb);
    const operation = `start task '${spec.name}'`;
    const container = await this.createContainer(spec, operation);
    try {
      for (const file of spec.files ?? []) await this.io.putFile(container.id, file.path, file.content);
      const stdin = spec.stdin !== undefined
        ? await this.call(`${operation}: attach stdin`, () => container.attach({ stream: true, stdin: true, hijack: true }) as Promise<Duplex>)
        : undefined;
      // A process that exits without reading its input closes the pipe: that is its business, and a
      // torn connection is seen by wait; neither may become an unhandled error of the daemon.
      stdin?.on('error', () => undefined);
      try {
        await this.call(operation, (abortSignal) => container.start({ abortSignal }));
      } catch (err) {
        stdin?.destroy();
        throw err;
      }
      if (stdin) {
        // end() half-closes the connection: the engine closes the process's stdin (StdinOnce).
        stdin.end(spec.stdin);
        stdin.resume();
      }
    } catch (err) {
      // A task that never started holds its name and nothing else of use.
      await this.forceRemove(container.id).catch(() => undefined);
      throw err;
    }
    const state = await this.inspect(container.id);
    if (!state) throw new NotFoundError(`${operation}: the container was removed as it started`);
    return state;
  }

  async wait(id: string, signal?: AbortSignal): Promise<TaskState> {
    signal?.throwIfAborted();
    const operation = `wait for task ${shortId(id)}`;
    // No time bound: a task runs as long as it runs; the caller's signal ends the wait.
    const waited = this.docker.getContainer(id).wait({ condition: 'not-running', ...(signal ? { abortSignal: signal } : {}) });
    try {
      await waited;
    } catch (err) {
      if (signal?.aborted) throw signal.reason;
      // Translated like any engine call (404: the container went away meanwhile).
      await this.call(operation, () => Promise.reject(err));
    }
    const state = await this.inspect(id);
    if (!state) throw new NotFoundError(`${operation}: the container is gone`);
    return state;
  }

  async inspect(id: string): Promise<TaskState | undefined> {
    const info = await this.inspectTask(id, `inspect task ${shortId(id)}`);
    return info && toTaskState(info);
  }

  async logs(id: string, options: { follow: boolean; since?: number; signal?: AbortSignal; onChunk: (stream: TaskStream, data: Buffer) => void }): Promise<void> {
    const operation = `read the output of task ${shortId(id)}`;
    if (options.signal?.aborted) return;
    await this.requireTask(id, operation);
    const frames = new FrameSplitter((stream, payload) => options.onChunk(stream, Buffer.from(payload)));
    const since = options.since !== undefined ? { since: dockerTimestamp(options.since) } : {};
    if (!options.follow) {
      // What the engine holds up to now, even while the task runs on.
      const output = await this.call(operation, (abortSignal) =>
        this.docker.getContainer(id).logs({ stdout: true, stderr: true, follow: false, ...since, abortSignal }) as unknown as Promise<Buffer | string>);
      frames.push(Buffer.isBuffer(output) ? output : Buffer.from(output, 'binary'));
      return;
    }
    const stream = await this.call(operation, (abortSignal) =>
      this.docker.getContainer(id).logs({ stdout: true, stderr: true, follow: true, ...since, abortSignal }) as unknown as Promise<Readable>);
    const stop = () => stream.destroy();
    options.signal?.addEventListener('abort', stop, { once: true });
    if (options.signal?.aborted) stop();
    try {
      // The engine ends a followed log when the task exits.
      await this.readToEnd(stream, frames);
    } finally {
      options.signal?.removeEventListener('abort', stop);
      stream.destroy();
    }
  }

  async stop(id: string, graceS: number): Promise<void> {
    const operation = `stop task ${shortId(id)}`;
    const info = await this.inspectTask(id, operation);
    if (!info || !info.State?.Running) return;
    const t = Math.max(0, Math.ceil(graceS));
    try {
      // The engine sends SIGTERM, waits `t` seconds, then SIGKILL: the answer comes after both.
      await this.call(operation, (abortSignal) => this.docker.getContainer(id).stop({ t, abortSignal }), t * 1000 + this.callTimeoutMs);
    } catch (err) {
      if (err instanceof NotFoundError) return;
      // 304 Not Modified: it ended meanwhile.
      if (err instanceof InfrastructureError && (err.cause as { statusCode?: number } | undefined)?.statusCode === 304) return;
      throw err;
    }
  }

  async readFile(id: string, path: string, maxBytes: number): Promise<{ content: Buffer; truncated: boolean } | undefined> {
    const operation = `read ${path} from task ${shortId(id)}`;
    if (!path.startsWith('/')) throw new ValidationError('path', `'${path}' must be an absolute path`);
    await this.requireTask(id, operation);
    let archive: Buffer;
    try {
      archive = await this.call(operation, async (abortSignal) => {
        const stream = await this.docker.getContainer(id).getArchive({ path, abortSignal }) as unknown as Readable;
        return readAtMost(stream, maxBytes + TAR_HEADROOM_BYTES);
      });
    } catch (err) {
      // The archive endpoint answers 404 for a missing path of an existing container, exited or not.
      if (err instanceof NotFoundError) return undefined;
      throw err;
    }
    const entry = readFirstTarEntryHead(archive);
    if (!entry) return undefined;
    if (entry.typeflag !== '0' && entry.typeflag !== '7') throw new InfrastructureError(`${operation}: not a regular file`, 'not_a_file');
    const content = entry.content.subarray(0, maxBytes);
    return { content, truncated: entry.size > maxBytes };
  }

  async list(): Promise<TaskState[]> {
    const summaries = await this.call('list tasks', (abortSignal) =>
      this.docker.listContainers({ all: true, filters: { label: [`${LABEL_TASK}=true`] }, abortSignal }));
    const states = await Promise.all(summaries.map((s) => this.inspect(s.Id)));
    return states.filter((s): s is TaskState => s !== undefined).sort((a, b) => a.name.localeCompare(b.name));
  }

  async remove(id: string): Promise<void> {
    const info = await this.inspectTask(id, `remove task ${shortId(id)}`);
    if (info) await this.forceRemove(info.Id);
  }

  private async createContainer(spec: TaskSpec, operation: string): Promise<Docker.Container> {
    const memoryBytes = spec.memoryMb * MIB;
    // Whatever the caller asks or the image carries (the engine merges the image's labels in: an
    // image committed from a tier's container has the mark), a task is never a managed container,
    // which drift repair would restart or remove: the mark is overridden with an empty value.
    const labels: Record<string, string> = { ...spec.labels, [LABEL_TASK]: 'true', [LABEL_MANAGED]: '' };
    const hasStdin = spec.stdin !== undefined;
    const body: Docker.ContainerCreateOptions = {
      name: spec.name,
      Image: spec.image,
      ...(spec.entrypoint ? { Entrypoint: spec.entrypoint } : {}),
      ...(spec.argv.length > 0 ? { Cmd: spec.argv } : {}),
      Env: Object.entries(spec.env).map(([key, value]) => `${key}=${value}`),
      ...(spec.cwd ? { WorkingDir: spec.cwd } : {}),
      Labels: labels,
      AttachStdin: hasStdin, OpenStdin: hasStdin, StdinOnce: hasStdin,
      AttachStdout: false, AttachStderr: false, Tty: false,
      HostConfig: {
        CpusetCpus: spec.cpuset.join(','),
        Memory: memoryBytes,
        // Swap equal to memory: a task over its limit is killed, not slowed down by swapping.
        MemorySwap: memoryBytes,
        RestartPolicy: { Name: 'no' },
      },
    };
    const create = () => this.call(operation, (abortSignal) => this.docker.createContainer({ ...body, abortSignal }));
    try {
      return await create();
    } catch (err) {
      // The name taken is rare (a retried attempt): asked only then, rather than before every start.
      if (isNameConflict(err)) {
        await this.removeStaleNamesake(spec.name, operation);
        return create();
      }
      if (!(err instanceof NotFoundError && /no such image/i.test(err.message))) throw err;
      await this.pull(spec.image);
      return create();
    }
  }

  /** A task of the same name is a leftover of an earlier attempt: replaced. Any other container is refused and left alone. */
  private async removeStaleNamesake(name: string, operation: string): Promise<void> {
    const existing = await inspectIfExists(this.docker, this.call, name, operation);
    if (!existing || existing.Name !== `/${name}`) return;
    if (existing.Config?.Labels?.[LABEL_TASK] !== 'true') {
      throw new ConflictError(`${operation}: a container named '${name}' exists and is not a task; it is left untouched`);
    }
    await this.forceRemove(existing.Id);
  }

  private async forceRemove(id: string): Promise<void> {
    try {
      await this.call(`remove task ${shortId(id)}`, (abortSignal) => this.docker.getContainer(id).remove({ force: true, v: true, abortSignal }));
    } catch (err) {
      if (err instanceof NotFoundError) return;
      if (err instanceof InfrastructureError && /already in progress/i.test(err.message)) return;
      throw err;
    }
  }

  /** The container when it is a task; a container that is not one is treated as absent, never touched. */
  private async inspectTask(id: string, operation: string): Promise<Docker.ContainerInspectInfo | undefined> {
    const info = await inspectIfExists(this.docker, this.call, id, operation);
    return info?.Config?.Labels?.[LABEL_TASK] === 'true' ? info : undefined;
  }

  private async requireTask(id: string, operation: string): Promise<void> {
    if (!(await this.inspectTask(id, operation))) throw new NotFoundError(`${operation}: no such task`);
  }

  /** Reads frames until the stream ends (the task exited) or is destroyed (abort). */
  private readToEnd(stream: Readable, frames: FrameSplitter): Promise<void> {
    return new Promise((resolve) => {
      stream.on('data', (chunk: Buffer) => frames.push(chunk));
      stream.once('end', () => resolve());
      stream.once('close', () => resolve());
      stream.once('error', () => resolve());
    });
  }
}

export function toTaskState(info: Docker.ContainerInspectInfo): TaskState {
  const labels = { ...(info.Config?.Labels ?? {}) };
  delete labels[LABEL_TASK];
  if (labels[LABEL_MANAGED] === '') delete labels[LABEL_MANAGED];
  const state = info.State?.Status ?? 'unknown';
  const ended = state === 'exited' || state === 'dead';
  return {
    id: info.Id,
    name: info.Name.replace(/^\//, ''),
    labels,
    state,
    cpuset: parseCpuset(info.HostConfig?.CpusetCpus ?? ''),
    memoryBytes: info.HostConfig?.Memory ?? 0,
    ...(info.State?.StartedAt && info.State.StartedAt !== ZERO_TIME ? { startedAt: info.State.StartedAt } : {}),
    ...(info.State?.FinishedAt && info.State.FinishedAt !== ZERO_TIME ? { finishedAt: info.State.FinishedAt } : {}),
    ...(ended ? { exitCode: info.State.ExitCode, oomKilled: info.State.OOMKilled === true } : {}),
  };
}

/** 409 "Conflict. The container name "/x" is already in use by container …". */
function isNameConflict(err: unknown): boolean {
  return err instanceof InfrastructureError && (err.cause as { statusCode?: number } | undefined)?.statusCode === 409
    && /already in use/i.test(err.message);
}

/** Milliseconds since the epoch as the engine's `since` (seconds with a fraction). */
function dockerTimestamp(ms: number): string {
  const whole = Math.floor(ms / 1000);
  return `${whole}.${String(Math.floor(ms - whole * 1000)).padStart(3, '0')}`;
}

/** The first `maxBytes` of a stream; the rest is not read (the stream is destroyed). */
function readAtMost(stream: Readable, maxBytes: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const finish = () => resolve(Buffer.concat(chunks).subarray(0, maxBytes));
    stream.on('data', (chunk: Buffer) => {
      chunks.push(chunk);
      size += chunk.length;
      if (size >= maxBytes) {
        stream.removeAllListeners('end');
        stream.destroy();
        finish();
      }
    });
    stream.once('end', finish);
    stream.once('error', reject);
  });
}

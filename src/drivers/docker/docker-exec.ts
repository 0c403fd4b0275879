import { randomBytes } from 'node:crypto';
import { posix } from 'node:path';
import type { Duplex, Readable } from 'node:stream';
import Docker from 'dockerode';
import { InfrastructureError, NotFoundError, ValidationError } from '../../domain/errors';
import { ExecOptions, ExecResult } from '../../ports/container-runtime';
import { shortId } from './docker-container-body';
import { EngineCall } from './engine-call';
import { ExecOutput } from './exec-output';
import { readFirstTarEntry, TarEntry, writeTar } from './tar-archive';

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

/**
 * Processes and files inside a running container of one engine: exec with a deadline and cancel,
 * and single files written and read through the engine's archive API (no bind mount).
 */
export class DockerExec {
  constructor(
    private readonly docker: Docker,
    private readonly call: EngineCall,
    /** Budget of one engine call; also how long an exit code may take to be recorded. */
    private readonly callTimeoutMs: number,
    /** `docker endpoint <url>`, for error messages. */
    private readonly where: () => string,
  ) {}

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

  private async assertContainerExists(id: string, operation: string): Promise<void> {
    await this.call(operation, (abortSignal) => this.docker.getContainer(id).inspect({ abortSignal }));
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

function absolutePath(path: string): string {
  const normalized = posix.normalize(path);
  if (!path.startsWith('/') || normalized === '/' || normalized.endsWith('/')) {
    throw new ValidationError('path', `'${path}' must be an absolute path to a file`);
  }
  return normalized;
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


function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

import { errorMessage } from '../../domain/errors';
import { log } from '../../log';
import { TaskStream } from '../../ports/container-runtime';
import { JobStore } from '../../ports/job-store';

const FLUSH_MS = 500;
const FLUSH_BYTES = 64 * 1024;

export type LogListener = (stream: TaskStream, data: Buffer) => void;

/**
 * The output of one running attempt on its way to the store: kept whole in memory up to its limit
 * per stream (what a follower is sent first), written to the store in batches (every 500 ms or
 * 64 KiB), and handed to followers as it arrives.
 */
export class AttemptLogSink {
  private readonly tails: Record<TaskStream, Buffer> = { stdout: Buffer.alloc(0), stderr: Buffer.alloc(0) };
  private readonly pending: Record<TaskStream, Buffer[]> = { stdout: [], stderr: [] };
  private pendingBytes = 0;
  /** Set after a restart: the first write replaces what the store has (the output is read again from its start). */
  private replace: boolean;
  private timer?: NodeJS.Timeout;
  private writing: Promise<void> = Promise.resolve();
  private readonly listeners = new Set<LogListener>();
  private readonly endListeners = new Set<() => void>();
  closed = false;

  constructor(
    private readonly store: Pick<JobStore, 'appendLog' | 'replaceLog'>,
    readonly jobId: string,
    readonly attempt: number,
    private readonly keepBytes: number,
    options: { replace?: boolean } = {},
  ) {
    this.replace = options.replace ?? false;
  }

  write(stream: TaskStream, data: Buffer): void {
    if (this.closed || data.length === 0) return;
    const joined = Buffer.concat([this.tails[stream], data]);
    this.tails[stream] = joined.length > this.keepBytes ? joined.subarray(joined.length - this.keepBytes) : joined;
    this.pending[stream].push(data);
    this.pendingBytes += data.length;
    for (const listener of this.listeners) listener(stream, data);
    if (this.pendingBytes >= FLUSH_BYTES) void this.flush();
    else this.timer ??= setTimeout(() => void this.flush(), FLUSH_MS);
  }

  /** What is kept of a stream so far. */
  tail(stream: TaskStream): Buffer {
    return this.tails[stream];
  }

  /** Chunks from now on, and the end of the attempt; returns the unsubscribe function. */
  follow(listener: LogListener, onEnd: () => void): () => void {
    this.listeners.add(listener);
    this.endListeners.add(onEnd);
    return () => {
      this.listeners.delete(listener);
      this.endListeners.delete(onEnd);
    };
  }

  /** Writes what is pending; writes never overlap and keep their order. */
  flush(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    const batch = { stdout: Buffer.concat(this.pending.stdout), stderr: Buffer.concat(this.pending.stderr) };
    this.pending.stdout = [];
    this.pending.stderr = [];
    this.pendingBytes = 0;
    const replace = this.replace;
    this.replace = false;
    const tails = { stdout: this.tails.stdout, stderr: this.tails.stderr };
    this.writing = this.writing.then(async () => {
      for (const stream of ['stdout', 'stderr'] as const) {
        try {
          if (replace) await this.store.replaceLog(this.jobId, this.attempt, stream, tails[stream]);
          else if (batch[stream].length > 0) await this.store.appendLog(this.jobId, this.attempt, stream, batch[stream], this.keepBytes);
        } catch (e) {
          log.warn({ job_id: this.jobId, attempt: this.attempt, stream, err: errorMessage(e) }, 'writing job output failed');
        }
      }
    });
    return this.writing;
  }

  /** The attempt ended: the rest is written, followers are told. */
  async close(): Promise<void> {
    await this.flush();
    this.closed = true;
    for (const onEnd of this.endListeners) onEnd();
    this.listeners.clear();
    this.endListeners.clear();
  }
}

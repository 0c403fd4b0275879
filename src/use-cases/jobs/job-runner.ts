import { errorMessage } from '../../domain/errors';
import {
  ATTEMPT_LABEL, AttemptReason, inputDelivery, Job, JOB_LABEL, JobAttempt, MAX_OUTPUT_BYTES, OUTPUT_FILE, STOP_GRACE_S, TEMPLATE_LABEL,
} from '../../domain/job';
import { Vm } from '../../domain/vm';
import { log } from '../../log';
import { ContainerRuntimeFactory, RuntimeTasks, TaskState } from '../../ports/container-runtime';
import { JobStore } from '../../ports/job-store';
import { AttemptLogSink } from './job-log-sink';
import { TemplateImages } from './job-templates';

/** One attempt under way: what the scheduler and the runner share about it. */
export interface AttemptHandle {
  job: Job;
  attempt: JobAttempt;
  vm: Vm;
  memoryMb: number;
  taskId?: string;
  sink?: AttemptLogSink;
  cancelRequested: boolean;
  timedOut: boolean;
  /** Aborted when the attempt's node is declared lost. */
  readonly lost: AbortController;
  /** Aborted when the daemon stops: the container is left running, to be re-attached at the next start. */
  readonly detach: AbortController;
}

export interface AttemptOutcome {
  reason: AttemptReason;
  exit_code?: number;
  message?: string;
  output?: string;
  output_truncated?: boolean;
}

/** The daemon stopped while the attempt ran: nothing is recorded. */
export const DETACHED = 'detached' as const;

/**
 * The call's answer, or a rejection as soon as `signal` aborts: an engine that died may leave a call
 * hanging, and a node declared lost (or a daemon stopping) must not wait for it.
 */
function untilAborted<T>(call: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) {
    call.catch(() => undefined);
    return Promise.reject(signal.reason);
  }
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    call.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}

export function newHandle(job: Job, attempt: JobAttempt, vm: Vm, memoryMb: number): AttemptHandle {
  return { job, attempt, vm, memoryMb, cancelRequested: false, timedOut: false, lost: new AbortController(), detach: new AbortController() };
}

const RETRY_ENGINE_MS = 2_000;
const LOGS_DRAIN_MS = 2_000;

/**
 * Runs attempts in task containers: the image ensured on the node, the container started pinned to
 * its cores with the input as `$1`, stdin or `/ecoware/input`, its output followed into the store,
 * its end awaited through timeouts, cancels, an engine that stops answering and a node declared
 * lost, then `/ecoware/output` read. Removing the container is `cleanup`'s, called once the result
 * is recorded.
 */
export class JobRunner {
  constructor(
    private readonly runtimeFor: ContainerRuntimeFactory,
    private readonly images: TemplateImages,
    private readonly store: JobStore,
  ) {}

  /** Starts the attempt's container and follows it to its end. `onRunning` is awaited once it runs. */
  async run(handle: AttemptHandle, sources: readonly Vm[], onRunning: (h: AttemptHandle) => Promise<void>): Promise<AttemptOutcome | typeof DETACHED> {
    const { job, attempt, vm } = handle;
    const tasks = this.runtimeFor(vm).tasks;
    if (!tasks) return { reason: 'error', message: `the engine of node '${vm.name}' cannot run jobs` };
    try {
      await this.images.ensureOn(job.spec.image, vm, sources);
    } catch (e) {
      return { reason: 'error', message: `image '${job.spec.image}' could not be put on node '${vm.name}': ${errorMessage(e)}` };
    }
    if (handle.cancelRequested) return { reason: 'cancelled', message: 'cancelled before its container started' };
    if (handle.detach.signal.aborted) return DETACHED;
    const delivery = inputDelivery(job.spec, job.input);
    let state: TaskState;
    try {
      state = await tasks.start({
        name: attempt.container, image: job.spec.image, argv: delivery.argv, env: job.spec.env,
        ...(job.spec.cwd !== undefined ? { cwd: job.spec.cwd } : {}),
        cpuset: attempt.cpuset, memoryMb: handle.memoryMb,
        ...(delivery.stdin ? { stdin: delivery.stdin } : {}),
        files: delivery.files,
        labels: { [JOB_LABEL]: job.id, [ATTEMPT_LABEL]: String(attempt.n), [TEMPLATE_LABEL]: job.template },
      });
    } catch (e) {
      return { reason: 'error', message: `starting the container on node '${vm.name}' failed: ${errorMessage(e)}` };
    }
    handle.taskId = state.id;
    await onRunning(handle);
    return this.follow(handle, tasks, false);
  }

  /** Follows again an attempt found at start (running, or ended while the daemon was down). */
  async attach(handle: AttemptHandle, task: TaskState): Promise<AttemptOutcome | typeof DETACHED> {
    const tasks = this.runtimeFor(handle.vm).tasks;
    if (!tasks) return { reason: 'error', message: `the engine of node '${handle.vm.name}' cannot run jobs` };
    handle.taskId = task.id;
    return this.follow(handle, tasks, true);
  }

  /** SIGTERM, then SIGKILL after the grace; the attempt then ends `cancelled`. */
  cancel(handle: AttemptHandle): void {
    handle.cancelRequested = true;
    this.stopTask(handle);
  }

  /** Removes the attempt's container (once its result is recorded); an engine that does not answer is only logged. */
  async cleanup(handle: AttemptHandle): Promise<void> {
    const tasks = this.runtimeFor(handle.vm).tasks;
    if (!tasks) return;
    try {
      await tasks.remove(handle.taskId ?? handle.attempt.container);
    } catch (e) {
      log.warn({ job_id: handle.job.id, node: handle.vm.name, err: errorMessage(e) }, 'removing a job container failed; it is removed at the next start');
    }
  }

  private stopTask(handle: AttemptHandle): void {
    const tasks = this.runtimeFor(handle.vm).tasks;
    if (!tasks || !handle.taskId) return;
    tasks.stop(handle.taskId, STOP_GRACE_S).catch((e) => log.warn({ job_id: handle.job.id, err: errorMessage(e) }, 'stopping a job container failed'));
  }

  private async follow(handle: AttemptHandle, tasks: RuntimeTasks, again: boolean): Promise<AttemptOutcome | typeof DETACHED> {
    const { job, attempt } = handle;
    const id = handle.taskId!;
    const sink = new AttemptLogSink(this.store, job.id, attempt.n, job.spec.keep_logs_kib * 1024, { replace: again });
    handle.sink = sink;
    const logsAbort = new AbortController();
    const logsDone = tasks.logs(id, { follow: true, signal: logsAbort.signal, onChunk: (stream, data) => sink.write(stream, data) })
      .catch((e) => { if (!logsAbort.signal.aborted) log.debug({ job_id: job.id, err: errorMessage(e) }, 'following job output stopped'); });
    const deadline = attempt.deadline ? Date.parse(attempt.deadline) : undefined;
    const timer = deadline !== undefined ? setTimeout(() => {
      handle.timedOut = true;
      this.stopTask(handle);
    }, Math.max(0, deadline - Date.now())) : undefined;
    if (handle.cancelRequested) this.stopTask(handle);
    let end: TaskState | 'gone' | 'lost' | typeof DETACHED;
    try {
      end = await this.waitForExit(handle, tasks, id);
    } finally {
      if (timer) clearTimeout(timer);
    }
    if (end === DETACHED || end === 'lost') {
      logsAbort.abort();
      await sink.close();
      if (end === DETACHED) return DETACHED;
      return { reason: 'node_lost', message: `node '${handle.vm.name}' was lost while the job ran` };
    }
    if (end === 'gone') {
      logsAbort.abort();
      await sink.close();
      return { reason: 'error', message: 'the container was removed while the job ran' };
    }
    await Promise.race([logsDone, new Promise((r) => setTimeout(r, LOGS_DRAIN_MS).unref())]);
    logsAbort.abort();
    const output = await this.readOutput(handle, tasks, id, sink);
    await sink.close();
    const reason: AttemptReason = handle.cancelRequested ? 'cancelled' : handle.timedOut ? 'timeout' : end.oomKilled ? 'oom' : 'exit';
    const message = reason === 'timeout' ? `stopped after its timeout of ${job.spec.timeout_s} s`
      : reason === 'oom' ? `killed for going over its memory limit of ${handle.memoryMb} MB`
        : reason === 'cancelled' ? 'cancelled while it ran' : undefined;
    return { reason, ...(end.exitCode !== undefined ? { exit_code: end.exitCode } : {}), ...(message ? { message } : {}), ...output };
  }

  /** The task's end, waiting through an engine that stops answering until it answers again or the node is lost. */
  private async waitForExit(handle: AttemptHandle, tasks: RuntimeTasks, id: string): Promise<TaskState | 'gone' | 'lost' | typeof DETACHED> {
    const signal = AbortSignal.any([handle.lost.signal, handle.detach.signal]);
    for (;;) {
      if (handle.detach.signal.aborted) return DETACHED;
      if (handle.lost.signal.aborted) return 'lost';
      try {
        const state = await untilAborted(tasks.wait(id, signal), signal);
        if (state.state !== 'running' && state.state !== 'created') return state;
        log.debug({ job_id: handle.job.id, state: state.state }, 'a job container\'s wait ended while it runs; waiting again');
      } catch (e) {
        if (signal.aborted) continue;
        log.debug({ job_id: handle.job.id, err: errorMessage(e) }, 'waiting for a job container failed; asking its engine again');
      }
      try {
        const state = await untilAborted(tasks.inspect(id), signal);
        if (!state) return 'gone';
        if (state.state !== 'running' && state.state !== 'created') return state;
      } catch (e) {
        log.debug({ job_id: handle.job.id, node: handle.vm.name, err: errorMessage(e) }, 'the engine of a running job does not answer; asking again');
        if (signal.aborted) continue;
        await new Promise<void>((resolve) => {
          if (signal.aborted) { resolve(); return; }
          const t = setTimeout(resolve, RETRY_ENGINE_MS);
          signal.addEventListener('abort', () => { clearTimeout(t); resolve(); }, { once: true });
        });
      }
    }
  }

  private async readOutput(handle: AttemptHandle, tasks: RuntimeTasks, id: string, sink: AttemptLogSink): Promise<{ output?: string; output_truncated?: boolean }> {
    const from = handle.job.spec.output_from ?? OUTPUT_FILE;
    if (from === 'stdout' || from === 'stderr') {
      const tail = sink.tail(from);
      return { output: tail.subarray(Math.max(0, tail.length - MAX_OUTPUT_BYTES)).toString('utf8') };
    }
    try {
      const file = await tasks.readFile(id, from, MAX_OUTPUT_BYTES);
      if (!file) return {};
      return { output: file.content.toString('utf8'), ...(file.truncated ? { output_truncated: true } : {}) };
    } catch (e) {
      log.warn({ job_id: handle.job.id, err: errorMessage(e) }, 'reading the job output file failed');
      return {};
    }
  }
}

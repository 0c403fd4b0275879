/**
 * Jobs (SPEC §10): a template says what to run and with how much; a dispatch makes a job of it,
 * queued until a node has its cores and memory free, then run in one container per attempt.
 *
 *   queued ──▶ starting ──▶ running ──▶ succeeded | failed | timed_out | cancelled
 *     ▲  │         │            │
 *     │  └─────────┴────────────┴──▶ cancelled / failed (queue_timeout, never ran)
 *     └──── starting / running, when an attempt ends for a reason in `retry_on` and retries are left
 *
 * Pure types and rules: no I/O.
 */

export const JOB_STATUSES = ['queued', 'starting', 'running', 'succeeded', 'failed', 'timed_out', 'cancelled'] as const;
export type JobStatus = typeof JOB_STATUSES[number];

export const TERMINAL_JOB_STATUSES: readonly JobStatus[] = ['succeeded', 'failed', 'timed_out', 'cancelled'];

export function isTerminal(status: JobStatus): boolean {
  return TERMINAL_JOB_STATUSES.includes(status);
}

/** Which status may follow which; a retry takes a job back to `queued`. */
const TRANSITIONS: Readonly<Record<JobStatus, readonly JobStatus[]>> = {
  queued: ['starting', 'failed', 'cancelled'],
  starting: ['running', 'queued', 'failed', 'timed_out', 'cancelled'],
  running: ['queued', 'succeeded', 'failed', 'timed_out', 'cancelled'],
  succeeded: [],
  failed: [],
  timed_out: [],
  cancelled: [],
};

export function canTransition(from: JobStatus, to: JobStatus): boolean {
  return TRANSITIONS[from].includes(to);
}

/** Why an attempt ended. */
export const ATTEMPT_REASONS = ['exit', 'oom', 'node_lost', 'timeout', 'cancelled', 'error'] as const;
export type AttemptReason = typeof ATTEMPT_REASONS[number];

export const DEFAULT_RETRY_ON: readonly AttemptReason[] = ['node_lost'];

/** One try of a job: one container on one node. */
export interface JobAttempt {
  n: number;
  node: string;
  /** The container's name (`ecoware-job-<id>-<n>`), recorded before it is started. */
  container: string;
  /** Cores it is pinned to on its node. */
  cpuset: number[];
  started_at: string;
  ended_at?: string;
  exit_code?: number;
  reason?: AttemptReason;
  message?: string;
  /** When it times out (ISO 8601), when it has a timeout. */
  deadline?: string;
}

export type InputMode = 'arg' | 'stdin' | 'file';

/** Where a job's input is written for `file` mode, and where its output is read from. */
export const INPUT_FILE = '/ecoware/input';
export const OUTPUT_FILE = '/ecoware/output';
export const MAX_OUTPUT_BYTES = 1024 * 1024;
export const DEFAULT_INPUT_MAX_BYTES = 1024 * 1024;
export const DEFAULT_KEEP_LOGS_KIB = 1024;
/** SIGTERM, then SIGKILL after this long, on timeout and cancel. */
export const STOP_GRACE_S = 10;

/** What a job runs, copied from its template when it is dispatched (a later edit of the template does not change it). */
export interface JobRunSpec extends Pick<TemplateFields,
  'command' | 'env' | 'cwd' | 'cpu_cores' | 'mem_units' | 'timeout_s' | 'retries' | 'retry_on' | 'node_selector' | 'keep_logs_kib' | 'max_queue_s'> {
  /** The image the container runs (the template's, or the one its install made). */
  image: string;
  input_mode: InputMode;
  /** Where the output is read from (default /ecoware/output); `stdout` or `stderr` makes that stream's tail the output. */
  output_from?: string;
  /** Where `file` input is written (default /ecoware/input). */
  input_path?: string;
}

export interface Job {
  /** Sortable by submission. */
  id: string;
  template: string;
  status: JobStatus;
  priority: number;
  spec: JobRunSpec;
  input?: string;
  idempotency_key?: string;
  created_at: string;
  /** When it last joined the queue (its submission, or the end of an attempt that is retried). */
  queued_at?: string;
  /** When the first attempt's container started. */
  started_at?: string;
  finished_at?: string;
  /** Not before this instant (ISO): the backoff after a failed attempt. */
  not_before?: string;
  attempts: JobAttempt[];
  /** What `/ecoware/output` held at the end (text). */
  output?: string;
  output_truncated?: boolean;
  exit_code?: number;
  /** Why a finished job did not succeed (`queue_timeout`, `exit`, `oom`, …); while queued, why it waits. */
  reason?: string;
  message?: string;
  /** Queued: no node of the pool or the cloud's instance type could ever hold it. */
  never_fits?: boolean;
}

/** The wait before attempt `n + 1` after attempt `n` failed: 2 s, 4 s, 8 s, … at most 60 s. */
export function backoffMs(failedAttempts: number): number {
  const exponent = Math.max(0, failedAttempts - 1);
  return Math.min(60_000, 2_000 * 2 ** Math.min(exponent, 10));
}

/** Whether an attempt that ended for `reason` is tried again, given how many attempts ran. */
export function shouldRetry(spec: Pick<JobRunSpec, 'retries' | 'retry_on'>, reason: AttemptReason, attemptsCounted: number): boolean {
  if (reason === 'cancelled') return false;
  return spec.retry_on.includes(reason) && attemptsCounted <= spec.retries;
}

/**
 * What a starting daemon does with an attempt a stopped daemon left open, from the job's status and
 * what the attempt's node reports of its container (found by name; undefined: no such container):
 * - `reattach`: it runs, follow it again (its output is read again from the start);
 * - `collect`: it ended meanwhile, record how;
 * - `requeue`: it never started (the daemon stopped between recording the attempt and starting its
 *   container), queue the job again without counting the attempt;
 * - `gone`: it had started and its container is gone: the attempt failed (`error`).
 * A container that was created but never started is removed and counts as never started.
 */
export function recoveryAction(status: JobStatus, task: { state: string } | undefined): 'reattach' | 'collect' | 'requeue' | 'gone' {
  if (!task) return status === 'starting' ? 'requeue' : 'gone';
  if (task.state === 'created') return 'requeue';
  if (task.state === 'exited' || task.state === 'dead') return 'collect';
  return 'reattach';
}

/** The job status a final attempt's reason leaves. */
export function statusAfter(reason: AttemptReason, exitCode: number | undefined): JobStatus {
  if (reason === 'cancelled') return 'cancelled';
  if (reason === 'timeout') return 'timed_out';
  if (reason === 'exit' && exitCode === 0) return 'succeeded';
  return 'failed';
}

/** Attempts that count toward `retries` (an attempt interrupted before its container started does not). */
export function countedAttempts(job: Pick<Job, 'attempts'>): number {
  return job.attempts.filter((a) => a.message !== INTERRUPTED_BEFORE_START).length;
}

export const INTERRUPTED_BEFORE_START = 'the daemon stopped before the container started; queued again';

/** The container name of an attempt: found again by name after a restart. */
export function attemptContainerName(jobId: string, n: number): string {
  return `ecoware-job-${jobId}-${n}`;
}

/** Labels of a job's container (read back by the runtime's `tasks.list()`). */
export const JOB_LABEL = 'ecoware.job';
export const ATTEMPT_LABEL = 'ecoware.job.attempt';
export const TEMPLATE_LABEL = 'ecoware.job.template';

let lastStamp = '';
let sequence = 0;

/** `j` + the submission time to the millisecond + a sequence + random: ids sort by submission. */
export function newJobId(now: Date, random: string): string {
  const stamp = now.toISOString().replace(/[-:]/g, '').replace('.', '').replace('Z', '');
  sequence = stamp === lastStamp ? sequence + 1 : 0;
  lastStamp = stamp;
  return `j${stamp}${String(sequence).padStart(3, '0')}-${random}`;
}

/** Templates: `validating` until the image is found (or built), then `ready` or `rejected` with a reason. */
export type TemplateStatus = 'validating' | 'ready' | 'rejected';

/** What a template says of its jobs, as its body gives it (defaults applied). */
export interface TemplateFields {
  image?: string;
  install?: { base_image: string; script?: string; script_url?: string };
  command?: string[];
  env: Record<string, string>;
  cwd?: string;
  cpu_cores: number;
  mem_units: number;
  timeout_s?: number;
  retries: number;
  retry_on: AttemptReason[];
  input: { mode: InputMode; max_bytes: number };
  max_concurrent?: number;
  max_queue_s?: number;
  node_selector?: Record<string, string>;
  keep_logs_kib: number;
}

export interface JobTemplate extends TemplateFields {
  name: string;
  /** Grows with each PUT: the install's image is `ecoware-job/<name>:<rev>`. */
  rev: number;
  status: TemplateStatus;
  reason?: string;
  created_at: string;
  updated_at: string;
}

/** The image a template's jobs run: its own, or the one its install makes. */
export function templateImage(t: Pick<JobTemplate, 'name' | 'rev' | 'image'>): string {
  return t.image ?? `ecoware-job/${t.name}:${t.rev}`;
}

/** The run spec of a job of template `t`, with the dispatch's additions. */
export function runSpecOf(t: JobTemplate, extra: { env?: Record<string, string>; timeout_s?: number; max_queue_s?: number }): JobRunSpec {
  return {
    image: templateImage(t),
    ...(t.command ? { command: [...t.command] } : {}),
    env: { ...t.env, ...(extra.env ?? {}) },
    ...(t.cwd !== undefined ? { cwd: t.cwd } : {}),
    cpu_cores: t.cpu_cores,
    mem_units: t.mem_units,
    ...((extra.timeout_s ?? t.timeout_s) !== undefined ? { timeout_s: extra.timeout_s ?? t.timeout_s } : {}),
    retries: t.retries,
    retry_on: [...t.retry_on],
    input_mode: t.input.mode,
    ...(t.node_selector ? { node_selector: { ...t.node_selector } } : {}),
    keep_logs_kib: t.keep_logs_kib,
    ...((extra.max_queue_s ?? t.max_queue_s) !== undefined ? { max_queue_s: extra.max_queue_s ?? t.max_queue_s } : {}),
  };
}

/** The argv, stdin and files of an attempt's container for a job's input. */
export function inputDelivery(spec: Pick<JobRunSpec, 'command' | 'input_mode' | 'input_path'>, input: string | undefined): { argv: string[]; stdin?: Buffer; files: { path: string; content: Buffer }[] } {
  const argv = [...(spec.command ?? [])];
  if (input === undefined) return { argv, files: [] };
  if (spec.input_mode === 'arg') return { argv: [...argv, input], files: [] };
  if (spec.input_mode === 'stdin') return { argv, stdin: Buffer.from(input), files: [] };
  return { argv, files: [{ path: spec.input_path ?? INPUT_FILE, content: Buffer.from(input) }] };
}

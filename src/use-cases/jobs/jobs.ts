import { randomBytes } from 'node:crypto';
import { ConflictError, NotFoundError, UnsatisfiableError, ValidationError } from '../../domain/errors';
import {
  DEFAULT_KEEP_LOGS_KIB, DEFAULT_RETRY_ON, INPUT_FILE, isTerminal, Job, JobRunSpec, JobTemplate, newJobId, OUTPUT_FILE, runSpecOf,
} from '../../domain/job';
import { neverFitsReason } from '../../domain/job-placement';
import { expandPlaceholders } from '../../domain/process-definition';
import { Vm } from '../../domain/vm';
import { ContainerRuntimeFactory, TaskStream } from '../../ports/container-runtime';
import { JobFilter, JobStore } from '../../ports/job-store';
import { ProcessDefinitionStore } from '../../ports/process-definition-store';
import { parseDispatch, parseJobTemplate } from '../../schema/job-template';
import { Knowledge } from '../cluster/knowledge';
import { jobNodesOf } from './job-nodes';
import { JobScheduler, Waiting } from './job-scheduler';
import { JobTemplates } from './job-templates';

/** A job as the API shows it: the record, and while queued its place and why it waits. */
export type JobRecord = Job & { position?: number; never_fits?: boolean };

export const MAX_WAIT_S = 300;
const PROCESS_PREFIX = 'process:';

/**
 * The jobs' use cases as the HTTP layer calls them: templates, dispatch (every bad input refused
 * before anything is queued), reads, waits, output, cancel.
 */
export class Jobs {
  constructor(
    private readonly knowledge: Knowledge,
    private readonly runtimeFor: ContainerRuntimeFactory,
    private readonly store: JobStore,
    readonly templates: JobTemplates,
    readonly scheduler: JobScheduler,
    private readonly processDefinitions: ProcessDefinitionStore,
  ) {}

  /** Creates or replaces a template; refused (422) when no node of the pool or the cloud could ever hold its jobs. */
  async putTemplate(name: string, body: unknown): Promise<{ template: JobTemplate; created: boolean }> {
    const input = parseJobTemplate(name, body);
    this.refuseNeverFits(input);
    return this.templates.put(name, body);
  }

  /** Deletes a template; 409 while jobs of it are queued or running, unless `force`, which cancels them. */
  async deleteTemplate(name: string, force: boolean): Promise<{ cancelled: string[] }> {
    this.templates.requireTemplate(name);
    const open = this.scheduler.openJobs().filter((j) => j.template === name);
    if (open.length > 0 && !force) {
      throw new ConflictError(`job template '${name}' has ${open.length} job(s) queued or running (${open.slice(0, 10).map((j) => j.id).join(', ')}${open.length > 10 ? ', …' : ''}): cancel them first, or DELETE with ?force=true`);
    }
    for (const job of open) await this.scheduler.cancel(job.id);
    await this.templates.delete(name);
    return { cancelled: open.map((j) => j.id) };
  }

  /** `POST /api/jobs`: a new job (created), or the one dispatched earlier with the same idempotency key. */
  async dispatch(body: unknown): Promise<{ job: JobRecord; created: boolean }> {
    const d = parseDispatch(body);
    if (d.idempotency_key !== undefined) {
      const existing = await this.store.findByIdempotencyKey(d.idempotency_key);
      if (existing) return { job: this.recordOf(existing), created: false };
    }
    const { spec, maxBytes } = d.template.startsWith(PROCESS_PREFIX) ? await this.processSpec(d.template, d) : this.templateSpec(d.template, d);
    if (d.input !== undefined && Buffer.byteLength(d.input) > maxBytes) {
      throw new ValidationError('input', `is ${Buffer.byteLength(d.input)} bytes, over the template's input.max_bytes (${maxBytes})`);
    }
    this.refuseNeverFits(spec);
    const now = new Date();
    const job: Job = {
      id: newJobId(now, randomBytes(3).toString('hex')),
      template: d.template, status: 'queued', priority: d.priority, spec,
      ...(d.input !== undefined ? { input: d.input } : {}),
      ...(d.idempotency_key !== undefined ? { idempotency_key: d.idempotency_key } : {}),
      created_at: now.toISOString(), queued_at: now.toISOString(), attempts: [],
    };
    await this.scheduler.submit(job);
    return { job: this.recordOf(job), created: true };
  }

  async get(id: string): Promise<JobRecord> {
    const current = this.scheduler.current(id);
    if (current) return this.withWaiting(current.job, current.waiting);
    const job = id.length <= 128 ? await this.store.getJob(id) : undefined;
    if (!job) throw new NotFoundError(`job '${id.slice(0, 128)}' not found`);
    return job;
  }

  async list(filter: JobFilter): Promise<JobRecord[]> {
    return (await this.store.listJobs(filter)).map((j) => this.recordOf(j));
  }

  /** The job once terminal, or as it is when `seconds` have passed. */
  async wait(id: string, seconds: number): Promise<JobRecord> {
    const job = await this.get(id);
    if (isTerminal(job.status) || seconds <= 0) return job;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(done, seconds * 1000);
      const off = this.scheduler.onChange((j) => { if (j.id === id && isTerminal(j.status)) done(); });
      function done() {
        clearTimeout(timer);
        off();
        resolve();
      }
    });
    return this.get(id);
  }

  async cancel(id: string): Promise<JobRecord> {
    const job = await this.get(id);
    if (isTerminal(job.status)) throw new ConflictError(`job '${id}' is already ${job.status}`);
    await this.scheduler.cancel(id);
    return this.get(id);
  }

  /** The kept output of a job's latest attempt (or of `attempt`), the last `tail` lines when asked. */
  async logs(id: string, stream: TaskStream, options: { attempt?: number; tail?: number } = {}): Promise<Buffer> {
    const job = await this.get(id);
    const n = options.attempt ?? job.attempts.length;
    if (n < 1) return Buffer.alloc(0);
    const handle = this.scheduler.handleOf(id);
    const data = handle?.attempt.n === n && handle.sink ? handle.sink.tail(stream) : await this.store.readLog(id, n, stream);
    return options.tail === undefined ? data : lastLines(data, options.tail);
  }

  /**
   * Streams a job's output as it comes, from its latest attempt on (and the attempts after it, when
   * it is retried), until the job is terminal or `signal` aborts. `write` gets what is kept first.
   */
  async follow(id: string, stream: TaskStream, write: (data: Buffer) => void, signal: AbortSignal, tail?: number): Promise<void> {
    let sent = 0; // attempts whose output was sent whole
    for (;;) {
      if (signal.aborted) return;
      const job = await this.get(id);
      const handle = this.scheduler.handleOf(id);
      if (handle?.sink && !handle.sink.closed && handle.attempt.n > sent) {
        const sink = handle.sink;
        const first = sink.tail(stream);
        write(sent === 0 && tail !== undefined ? lastLines(first, tail) : first);
        await new Promise<void>((resolve) => {
          const off = sink.follow((s, data) => { if (s === stream) write(data); }, () => { off(); resolve(); });
          signal.addEventListener('abort', () => { off(); resolve(); }, { once: true });
        });
        sent = handle.attempt.n;
        continue;
      }
      const latest = job.attempts.length;
      if (latest > sent && job.attempts[latest - 1].ended_at) {
        write(await this.logs(id, stream, { attempt: latest, ...(sent === 0 && tail !== undefined ? { tail } : {}) }));
        sent = latest;
      }
      if (isTerminal(job.status)) return;
      // Queued, or starting: wait for the next change of the job.
      await new Promise<void>((resolve) => {
        const timer = setTimeout(finish, 1_000);
        const off = this.scheduler.onChange((j) => { if (j.id === id) finish(); });
        signal.addEventListener('abort', finish, { once: true });
        function finish() { clearTimeout(timer); off(); resolve(); }
      });
    }
  }

  private recordOf(job: Job): JobRecord {
    const current = this.scheduler.current(job.id);
    return current ? this.withWaiting(current.job, current.waiting) : job;
  }

  private withWaiting(job: Job, waiting: Waiting | undefined): JobRecord {
    if (job.status !== 'queued' || !waiting) return job;
    return { ...job, position: waiting.position, reason: waiting.reason, ...(waiting.neverFits ? { never_fits: true } : {}) };
  }

  private templateSpec(name: string, d: { env?: Record<string, string>; timeout_s?: number; max_queue_s?: number }): { spec: JobRunSpec; maxBytes: number } {
    const template = this.templates.get(name);
    if (!template) throw new NotFoundError(`template: no job template named '${name.slice(0, 80)}'${this.templates.list().length ? ` (templates: ${this.templates.list().slice(0, 20).map((t) => t.name).join(', ')})` : ''}`);
    if (template.status === 'rejected') throw new ConflictError(`template: job template '${name}' was rejected: ${template.reason ?? 'no reason given'}`);
    return { spec: runSpecOf(template, d), maxBytes: template.input.max_bytes };
  }

  /** A process definition of the registry as a job: its program, environment and adapters, in the dispatch's image. */
  private async processSpec(ref: string, d: { env?: Record<string, string>; timeout_s?: number; max_queue_s?: number; image?: string }): Promise<{ spec: JobRunSpec; maxBytes: number }> {
    const id = ref.slice(PROCESS_PREFIX.length);
    const definition = id ? await this.processDefinitions.get(id) : undefined;
    if (!definition) throw new NotFoundError(`template: no process definition '${id.slice(0, 80)}' in the registry`);
    if (!d.image) throw new ValidationError('image', `is required with ${ref}: a process definition names no image to run in`);
    const inputPath = definition.inputAdapter.kind === 'file' ? definition.inputAdapter.path ?? INPUT_FILE : undefined;
    const outputFrom = definition.outputAdapter.kind === 'stream' ? definition.outputAdapter.stream.toLowerCase()
      : definition.outputAdapter.kind === 'file' ? definition.outputAdapter.path ?? OUTPUT_FILE : undefined;
    const { argv, environment } = expandPlaceholders(definition, { inputFile: inputPath, outputFile: outputFrom?.startsWith('/') ? outputFrom : OUTPUT_FILE });
    const timeout = d.timeout_s ?? (definition.timeoutMs !== undefined ? definition.timeoutMs / 1000 : undefined);
    const spec: JobRunSpec = {
      image: d.image, command: [definition.exec, ...argv], env: { ...environment, ...(d.env ?? {}) },
      ...(definition.cwd !== undefined ? { cwd: definition.cwd } : {}),
      cpu_cores: 1, mem_units: 1, ...(timeout !== undefined ? { timeout_s: timeout } : {}),
      retries: 0, retry_on: [...DEFAULT_RETRY_ON], input_mode: definition.inputAdapter.kind === 'file' ? 'file' : 'stdin',
      keep_logs_kib: DEFAULT_KEEP_LOGS_KIB,
      ...(d.max_queue_s !== undefined ? { max_queue_s: d.max_queue_s } : {}),
      ...(outputFrom !== undefined ? { output_from: outputFrom } : {}),
      ...(inputPath !== undefined ? { input_path: inputPath } : {}),
    };
    return { spec, maxBytes: 1024 * 1024 };
  }

  /** 422 naming the field when no node of the pool, nor the cloud's vm_size, could ever hold such a job. */
  private refuseNeverFits(need: { cpu_cores: number; mem_units: number; node_selector?: Record<string, string> }): void {
    const view = jobNodesOf(this.knowledge, this.runtimeFor, []);
    if (!view) return;
    const reason = neverFitsReason(view.nodes, need, view.largest);
    if (!reason) return;
    const field = reason.startsWith('no node matches') ? 'node_selector'
      : !view.nodes.some((n) => n.capacity.cpu_cores >= need.cpu_cores) && !(view.largest && view.largest.cpu_cores >= need.cpu_cores) ? 'cpu_cores' : 'mem_units';
    throw new UnsatisfiableError(`${field}: never_fits: ${reason}`);
  }

  /** Ready nodes, for validating templates. */
  static readyNodes(knowledge: Knowledge): Vm[] {
    const cluster = knowledge.deployment?.cluster ?? {};
    return Object.values(cluster).map((s) => s.vm).filter((vm) => {
      const status = knowledge.nodes.get(vm.name);
      return status.health === 'ready' && !status.lost;
    });
  }
}

/** The last `n` lines of a text (a trailing newline ends the last line, it does not start another). */
export function lastLines(data: Buffer, n: number): Buffer {
  if (n <= 0) return Buffer.alloc(0);
  let end = data.length;
  if (end > 0 && data[end - 1] === 0x0a) end--;
  let at = end;
  for (let seen = 0; at > 0; at--) {
    if (data[at - 1] === 0x0a && ++seen === n) break;
  }
  return data.subarray(at);
}

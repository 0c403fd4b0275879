import { errorMessage } from '../../domain/errors';
import { EventBus } from '../../domain/events';
import {
  attemptContainerName, backoffMs, countedAttempts, INTERRUPTED_BEFORE_START, Job, JOB_LABEL, JobAttempt, JobStatus,
  recoveryAction, shouldRetry, statusAfter,
} from '../../domain/job';
import { placeJob } from '../../domain/job-placement';
import { Vm } from '../../domain/vm';
import { log } from '../../log';
import { ContainerRuntimeFactory, TaskState } from '../../ports/container-runtime';
import { JobStore } from '../../ports/job-store';
import { Knowledge } from '../cluster/knowledge';
import { JobDemand, JobHolding, JobView } from './job-holdings';
import { isStillFree, jobNodesOf } from './job-nodes';
import { AttemptHandle, AttemptOutcome, DETACHED, JobRunner, newHandle } from './job-runner';
import { JobTemplates } from './job-templates';

/** Why a queued job waits, as the last pass found. */
export interface Waiting {
  reason: string;
  neverFits: boolean;
  position: number;
}

export interface SchedulerOptions {
  /** The backstop pass, beside the events that start one (default 5 s). */
  tickMs?: number;
  /** Told how long each job waited from joining the queue to its container running. */
  observeQueueWait?: (seconds: number) => void;
  /**
   * Cores and memory jobs must not take besides what the cluster shows: what a plan being carried
   * out is about to place (its target allocation), when the plan side tells it.
   */
  reserved?: () => JobHolding[];
}

/**
 * The job queue and the attempts under way. FIFO within `priority` (higher first); a job starts
 * when a ready, uncordoned, non-draining node matching its selector has its cores and memory free
 * after what tiers and other jobs hold; `max_concurrent` per template; `max_queue_s` fails a job
 * that waited too long. A pass runs on a dispatch, an attempt's end, a `poke` (plans, nodes), an
 * execution's end, and every `tickMs` as a backstop; passes never overlap and never wait on the
 * plan queue. Jobs further back may start while one before them waits for room (backfill).
 *
 * A job's state is written before what it describes happens: an attempt is recorded `starting`,
 * with its container's name, before the container is started, so a daemon that stops in between
 * finds it by name at its next start (`recover`) and no job runs twice.
 */
export class JobScheduler implements JobView {
  /** Jobs not yet terminal, by id. */
  private readonly open = new Map<string, Job>();
  private readonly handles = new Map<string, AttemptHandle>();
  private readonly running = new Set<Promise<void>>();
  private readonly waiting = new Map<string, Waiting>();
  /** Attempts left open by a stopped daemon whose node did not answer at start: settled when it answers or is lost. */
  private readonly unresolved = new Map<string, Job>();
  private readonly listeners = new Set<(job: Job) => void>();
  private passing?: Promise<void>;
  private again = false;
  private passesStarted = 0;
  private passesDone = 0;
  private timer?: NodeJS.Timeout;
  private unsubscribe?: () => void;
  private stopped = false;
  /** Passes wait for `start`: what a stopped daemon left is taken back first. */
  private started = false;

  constructor(
    private readonly knowledge: Knowledge,
    private readonly runtimeFor: ContainerRuntimeFactory,
    private readonly store: JobStore,
    private readonly templates: JobTemplates,
    private readonly runner: JobRunner,
    private readonly events: EventBus,
    private readonly options: SchedulerOptions = {},
  ) {}

  /** Puts back what a stopped daemon left (see `recover`), then follows the bus and ticks. */
  async start(): Promise<void> {
    await this.recover();
    this.started = true;
    this.unsubscribe = this.events.subscribe((event) => {
      if (event.type === 'node') {
        if (event.health === 'lost') this.nodeLost(event.name);
        this.poke();
      } else if (event.type === 'execution' && ['succeeded', 'failed', 'cancelled'].includes(event.status)) {
        this.poke();
      }
    });
    this.timer = setInterval(() => this.poke(), this.options.tickMs ?? 5_000);
    this.timer.unref();
    this.poke();
  }

  /**
   * Stops scheduling and following; running job containers are left running, re-attached at the
   * next start. Output received so far is written.
   */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    this.unsubscribe?.();
    await this.passing;
    for (const handle of this.handles.values()) handle.detach.abort();
    await Promise.allSettled([...this.running]);
  }

  // --- the view for plans and the fleet (job-holdings.ts) ---

  holdings(): JobHolding[] {
    const held: JobHolding[] = [...this.handles.values()].map((h) => ({
      job: h.job.id, template: h.job.template, vm: h.vm.name, cpuset: [...h.attempt.cpuset], cores: h.job.spec.cpu_cores, memoryMb: h.memoryMb,
      ...(h.attempt.deadline ? { deadline: h.attempt.deadline } : {}),
    }));
    // Attempts a stopped daemon left running on a node that has not answered since: their container may still run.
    const memUnitMb = this.knowledge.deployment?.topology.infrastructure.memUnitMb ?? 0;
    for (const job of this.unresolved.values()) {
      const attempt = job.attempts[job.attempts.length - 1];
      if (!attempt || attempt.ended_at) continue;
      held.push({
        job: job.id, template: job.template, vm: attempt.node, cpuset: [...attempt.cpuset], cores: job.spec.cpu_cores, memoryMb: job.spec.mem_units * memUnitMb,
        ...(attempt.deadline ? { deadline: attempt.deadline } : {}),
      });
    }
    return held;
  }

  unplacedDemand(): JobDemand[] {
    const memUnitMb = this.knowledge.deployment?.topology.infrastructure.memUnitMb ?? 0;
    return this.queued().filter((j) => {
      const w = this.waiting.get(j.id);
      return w !== undefined && w.reason.startsWith('no ready node');
    }).map((j) => ({
      job: j.id, template: j.template, cores: j.spec.cpu_cores, memUnits: j.spec.mem_units, memoryMb: j.spec.mem_units * memUnitMb,
      ...(j.spec.node_selector ? { selector: { ...j.spec.node_selector } } : {}),
      queuedSince: j.queued_at ?? j.created_at,
    }));
  }

  poke(): void {
    if (this.stopped || !this.started) return;
    if (this.passing) {
      this.again = true;
      return;
    }
    this.passesStarted++;
    this.passing = this.pass().catch((e) => log.error({ err: errorMessage(e) }, 'a job scheduling pass failed')).finally(() => {
      this.passesDone++;
      this.passing = undefined;
      if (this.again) {
        this.again = false;
        this.poke();
      }
    });
  }

  /** Resolves once no pass is under way (tests, and the answer to a dispatch). */
  async settled(): Promise<void> {
    while (this.passing) await this.passing;
  }

  // --- jobs ---

  async submit(job: Job): Promise<void> {
    await this.store.saveJob(job);
    this.open.set(job.id, job);
    this.publish(job);
    // Answered once a pass that saw the job is over (its position and reason are known), not after
    // every pass later events start: the next pass to start is the first that sees it.
    const needed = this.passesStarted + 1;
    this.poke();
    while (this.passesDone < needed && this.passing) await this.passing;
  }

  /** The job as it is now, with why it waits while queued; undefined when it is not open. */
  current(id: string): { job: Job; waiting?: Waiting } | undefined {
    const job = this.open.get(id);
    return job ? { job, waiting: this.waiting.get(id) } : undefined;
  }

  /** The sink of the attempt under way, for following its output. */
  handleOf(id: string): AttemptHandle | undefined {
    return this.handles.get(id);
  }

  /** Told of every status change of every job. */
  onChange(listener: (job: Job) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  queued(): Job[] {
    return [...this.open.values()].filter((j) => j.status === 'queued')
      .sort((a, b) => b.priority - a.priority || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  }

  /** For the metrics: open jobs by state, what the queued ones ask for, the oldest one's wait. */
  metrics(now = Date.now()): { counts: Record<string, number>; demand: { cores: number; mem_units: number }; oldestQueuedSeconds: number } {
    const counts: Record<string, number> = { queued: 0, starting: 0, running: 0 };
    const demand = { cores: 0, mem_units: 0 };
    let oldest = now;
    for (const job of this.open.values()) {
      counts[job.status] = (counts[job.status] ?? 0) + 1;
      if (job.status !== 'queued') continue;
      demand.cores += job.spec.cpu_cores;
      demand.mem_units += job.spec.mem_units;
      oldest = Math.min(oldest, Date.parse(job.queued_at ?? job.created_at));
    }
    return { counts, demand, oldestQueuedSeconds: Math.max(0, (now - oldest) / 1000) };
  }

  openJobs(): Job[] {
    return [...this.open.values()];
  }

  /** Cancels a job in any non-terminal state: a queued one never starts, a running one is stopped. */
  async cancel(id: string): Promise<Job | undefined> {
    const job = this.open.get(id);
    if (!job) return undefined;
    const handle = this.handles.get(id);
    if (handle) {
      this.runner.cancel(handle);
      return job;
    }
    if (this.unresolved.has(id)) {
      // Its node does not answer: it is recorded cancelled now and its container removed when the node answers.
      this.unresolved.delete(id);
    }
    await this.finish(job, 'cancelled', { reason: 'cancelled', message: 'cancelled before it started' });
    return job;
  }

  private async pass(): Promise<void> {
    const now = Date.now();
    await this.resolveLeftOpen();
    this.abandonVanishedNodes();
    const view = jobNodesOf(this.knowledge, this.runtimeFor, [...this.holdings(), ...(this.options.reserved?.() ?? [])]);
    const runningByTemplate = new Map<string, number>();
    for (const h of this.handles.values()) runningByTemplate.set(h.job.template, (runningByTemplate.get(h.job.template) ?? 0) + 1);
    this.templates.revalidate();
    let position = 0;
    let nextWake = Infinity;
    for (const job of this.queued()) {
      // Cancelled while this pass awaited an earlier job's write: it never starts.
      if (job.status !== 'queued' || !this.open.has(job.id)) continue;
      const queuedSince = Date.parse(job.queued_at ?? job.created_at);
      if (job.spec.max_queue_s !== undefined && now - queuedSince >= job.spec.max_queue_s * 1000) {
        await this.finish(job, 'failed', { reason: 'queue_timeout', message: `waited in the queue for more than max_queue_s (${job.spec.max_queue_s} s)${this.waiting.has(job.id) ? `: ${this.waiting.get(job.id)!.reason}` : ''}` });
        continue;
      }
      if (job.spec.max_queue_s !== undefined) nextWake = Math.min(nextWake, queuedSince + job.spec.max_queue_s * 1000);
      const wait = (reason: string, neverFits = false) => this.waiting.set(job.id, { reason, neverFits, position: ++position });
      if (!view) { wait('no topology is loaded: PUT /api/topology first'); continue; }
      const template = job.template.startsWith('process:') ? undefined : this.templates.get(job.template);
      if (!job.template.startsWith('process:')) {
        if (!template) { await this.finish(job, 'failed', { reason: 'error', message: `job template '${job.template}' was deleted` }); continue; }
        if (template.status === 'validating') { wait(`job template '${job.template}' is being validated`); continue; }
        if (template.status === 'rejected') { await this.finish(job, 'failed', { reason: 'error', message: `job template '${job.template}' was rejected: ${template.reason ?? ''}` }); continue; }
      }
      if (job.not_before !== undefined && Date.parse(job.not_before) > now) {
        nextWake = Math.min(nextWake, Date.parse(job.not_before));
        wait(`waiting until ${job.not_before} before attempt ${job.attempts.length + 1} (backoff)`);
        continue;
      }
      const running = runningByTemplate.get(job.template) ?? 0;
      if (template?.max_concurrent !== undefined && running >= template.max_concurrent) {
        wait(`job template '${job.template}' has max_concurrent ${template.max_concurrent} jobs running`);
        continue;
      }
      const placement = placeJob(view.nodes, { cpu_cores: job.spec.cpu_cores, mem_units: job.spec.mem_units, node_selector: job.spec.node_selector }, view.largest);
      if ('reason' in placement) { wait(placement.reason, placement.neverFits); continue; }
      // The view was read at the start of the pass: a plan may have taken these cores since.
      if (!isStillFree(this.knowledge, this.runtimeFor, this.holdings(), placement.vm, placement.cpuset, job.spec.mem_units)) {
        wait(`the cores chosen on ${placement.vm} were taken by tiers meanwhile; trying again`);
        this.again = true;
        continue;
      }
      const node = view.nodes.find((n) => n.name === placement.vm)!;
      node.heldCores = new Set([...node.heldCores, ...placement.cpuset]);
      node.heldUnits += job.spec.mem_units;
      runningByTemplate.set(job.template, running + 1);
      const vm = view.vms.get(placement.vm)!;
      const sources = [...view.vms.values()].filter((v) => v.name !== vm.name && !view.nodes.find((n) => n.name === v.name)?.unschedulable);
      await this.startAttempt(job, vm, placement.cpuset, job.spec.mem_units * view.memUnitMb, sources);
    }
    if (Number.isFinite(nextWake)) {
      const t = setTimeout(() => this.poke(), Math.max(50, nextWake - Date.now() + 10));
      t.unref();
    }
  }

  private async startAttempt(job: Job, vm: Vm, cpuset: number[], memoryMb: number, sources: Vm[]): Promise<void> {
    const n = job.attempts.length + 1;
    const attempt: JobAttempt = { n, node: vm.name, container: attemptContainerName(job.id, n), cpuset, started_at: new Date().toISOString() };
    const handle = newHandle(job, attempt, vm, memoryMb);
    // Held from here on: the next job of this pass, and plans, see these cores taken.
    this.handles.set(job.id, handle);
    this.waiting.delete(job.id);
    job.attempts.push(attempt);
    this.setStatus(job, 'starting');
    delete job.reason;
    delete job.message;
    delete job.never_fits;
    delete job.not_before;
    await this.store.saveJob(job);
    this.publish(job);
    this.track(this.runner.run(handle, sources, (h) => this.markRunning(h)).then((outcome) => this.attemptEnded(handle, outcome)));
  }

  private async markRunning(handle: AttemptHandle): Promise<void> {
    const { job, attempt } = handle;
    const now = Date.now();
    attempt.started_at = new Date(now).toISOString();
    if (job.spec.timeout_s !== undefined) attempt.deadline = new Date(now + job.spec.timeout_s * 1000).toISOString();
    job.started_at ??= attempt.started_at;
    if (job.status !== 'starting') return;
    this.setStatus(job, 'running');
    this.options.observeQueueWait?.((now - Date.parse(job.queued_at ?? job.created_at)) / 1000);
    await this.store.saveJob(job);
    this.publish(job);
  }

  private track(work: Promise<void>): void {
    const p = work.catch((e) => log.error({ err: errorMessage(e) }, 'a job attempt failed unexpectedly')).finally(() => this.running.delete(p));
    this.running.add(p);
  }

  private async attemptEnded(handle: AttemptHandle, outcome: AttemptOutcome | typeof DETACHED): Promise<void> {
    if (outcome === DETACHED) return;
    const { job, attempt } = handle;
    log.info({ job_id: job.id, attempt: attempt.n, node: attempt.node, reason: outcome.reason, exit_code: outcome.exit_code }, 'job attempt ended');
    attempt.ended_at = new Date().toISOString();
    attempt.reason = outcome.reason;
    if (outcome.exit_code !== undefined) attempt.exit_code = outcome.exit_code;
    if (outcome.message !== undefined) attempt.message = outcome.message;
    this.handles.delete(job.id);
    const counted = countedAttempts(job);
    if (!handle.cancelRequested && shouldRetry(job.spec, outcome.reason, counted)) {
      const now = Date.now();
      job.queued_at = new Date(now).toISOString();
      job.not_before = new Date(now + backoffMs(counted)).toISOString();
      this.setStatus(job, 'queued');
      await this.store.saveJob(job);
      this.publish(job);
    } else {
      const status = handle.cancelRequested ? 'cancelled' : statusAfter(outcome.reason, outcome.exit_code);
      if (outcome.output !== undefined) job.output = outcome.output;
      if (outcome.output_truncated) job.output_truncated = true;
      if (outcome.exit_code !== undefined) job.exit_code = outcome.exit_code;
      await this.finish(job, status, status === 'succeeded' ? {} : { reason: handle.cancelRequested ? 'cancelled' : outcome.reason, message: outcome.message });
    }
    if (outcome.reason !== 'node_lost') await this.runner.cleanup(handle);
    this.poke();
  }

  private async finish(job: Job, status: JobStatus, why: { reason?: string; message?: string }): Promise<void> {
    this.setStatus(job, status);
    job.finished_at = new Date().toISOString();
    delete job.not_before;
    delete job.never_fits;
    if (why.reason !== undefined) job.reason = why.reason;
    else delete job.reason;
    if (why.message !== undefined) job.message = why.message;
    else delete job.message;
    this.open.delete(job.id);
    this.waiting.delete(job.id);
    await this.store.saveJob(job);
    this.publish(job);
  }

  private setStatus(job: Job, status: JobStatus): void {
    job.status = status;
  }

  private publish(job: Job): void {
    this.events.publish({ type: 'job', id: job.id, status: job.status, template: job.template, at: new Date().toISOString() });
    for (const listener of this.listeners) listener(job);
  }

  // --- recovery ---

  /**
   * At start: jobs a stopped daemon left unfinished are taken back. Queued ones wait again; each
   * open attempt is looked up by its container's name on its node (`recoveryAction` in
   * domain/job.ts): re-attached, collected, queued again, or failed. Containers of jobs no longer
   * open are removed.
   */
  async recover(): Promise<void> {
    const jobs = await this.store.listUnfinished();
    for (const job of jobs) this.open.set(job.id, job);
    const leftOpen = jobs.filter((j) => j.status !== 'queued');
    for (const job of leftOpen) this.unresolved.set(job.id, job);
    await this.resolveLeftOpen();
    await this.removeStrayContainers();
    if (jobs.length > 0) log.info({ jobs: jobs.length, attempts: leftOpen.length, unresolved: this.unresolved.size }, 'took back the jobs a stopped daemon left unfinished');
  }

  private async resolveLeftOpen(): Promise<void> {
    if (this.unresolved.size === 0) return;
    const cluster = this.knowledge.deployment?.cluster;
    if (!cluster) return;
    const listed = new Map<string, TaskState[] | undefined>();
    for (const job of [...this.unresolved.values()]) {
      const attempt = job.attempts[job.attempts.length - 1];
      if (!attempt || attempt.ended_at) {
        this.unresolved.delete(job.id);
        this.setStatus(job, 'queued');
        await this.store.saveJob(job);
        continue;
      }
      const vm = cluster[attempt.node]?.vm;
      if (!vm) {
        this.unresolved.delete(job.id);
        await this.endLeftOpen(job, attempt, { reason: 'node_lost', message: `node '${attempt.node}' left the fleet while the daemon was stopped` });
        continue;
      }
      if (this.knowledge.nodes.get(vm.name).health !== 'ready') continue;
      if (!listed.has(vm.name)) {
        try {
          listed.set(vm.name, await this.runtimeFor(vm).tasks?.list() ?? []);
        } catch (e) {
          log.warn({ node: vm.name, err: errorMessage(e) }, 'the engine of a node with jobs does not answer; they are settled when it does or the node is lost');
          listed.set(vm.name, undefined);
        }
      }
      const tasks = listed.get(vm.name);
      if (!tasks) continue;
      this.unresolved.delete(job.id);
      const task = tasks.find((t) => t.name === attempt.container);
      const action = recoveryAction(job.status, task);
      if (action === 'reattach' || action === 'collect') {
        const handle = newHandle(job, attempt, vm, job.spec.mem_units * (this.knowledge.deployment?.topology.infrastructure.memUnitMb ?? 0));
        this.handles.set(job.id, handle);
        if (job.status === 'starting') {
          this.setStatus(job, 'running');
          await this.store.saveJob(job);
          this.publish(job);
        }
        log.info({ job_id: job.id, node: vm.name, container: attempt.container, action }, 'job attempt taken back');
        this.track(this.runner.attach(handle, task!).then((outcome) => this.attemptEnded(handle, outcome)));
      } else if (action === 'requeue') {
        if (task) await this.runtimeFor(vm).tasks?.remove(task.id).catch(() => undefined);
        await this.endLeftOpen(job, attempt, { reason: 'error', message: INTERRUPTED_BEFORE_START }, true);
      } else {
        await this.endLeftOpen(job, attempt, { reason: 'error', message: 'its container was gone after the daemon restarted' });
      }
    }
  }

  /** Ends an attempt found open at start without a container to follow. */
  private async endLeftOpen(job: Job, attempt: JobAttempt, outcome: AttemptOutcome, requeue = false): Promise<void> {
    attempt.ended_at = new Date().toISOString();
    attempt.reason = outcome.reason;
    attempt.message = outcome.message;
    const counted = countedAttempts(job);
    if (requeue || shouldRetry(job.spec, outcome.reason, counted)) {
      job.queued_at = new Date().toISOString();
      if (!requeue) job.not_before = new Date(Date.now() + backoffMs(counted)).toISOString();
      this.setStatus(job, 'queued');
      await this.store.saveJob(job);
      this.publish(job);
    } else {
      await this.finish(job, 'failed', { reason: outcome.reason, message: outcome.message });
    }
  }

  private async removeStrayContainers(): Promise<void> {
    const cluster = this.knowledge.deployment?.cluster;
    if (!cluster) return;
    for (const { vm } of Object.values(cluster)) {
      const tasks = this.runtimeFor(vm).tasks;
      if (!tasks) continue;
      let list: TaskState[];
      try {
        list = await tasks.list();
      } catch {
        continue;
      }
      for (const task of list) {
        const jobId = task.labels[JOB_LABEL];
        if (!jobId) continue;
        const handle = this.handles.get(jobId);
        if (handle && handle.attempt.container === task.name) continue;
        if (this.unresolved.has(jobId)) continue;
        log.info({ node: vm.name, container: task.name }, 'removing the container of a job attempt that is over');
        await tasks.stop(task.id, 0).catch(() => undefined);
        await tasks.remove(task.id).catch(() => undefined);
      }
    }
  }

  /** A node that left the fleet (an elastic cloud's instance that is gone) is lost for its attempts. */
  private abandonVanishedNodes(): void {
    const cluster = this.knowledge.deployment?.cluster;
    if (!cluster) return;
    for (const handle of this.handles.values()) if (!cluster[handle.vm.name] && !handle.lost.signal.aborted) handle.lost.abort();
  }

  /** A node was declared lost: its attempts end `node_lost` (retried per `retry_on`). */
  private nodeLost(name: string): void {
    log.info({ node: name, attempts: [...this.handles.values()].filter((h) => h.vm.name === name).map((h) => h.job.id) }, 'node lost: its job attempts end node_lost');
    for (const handle of this.handles.values()) if (handle.vm.name === name) handle.lost.abort();
    for (const job of [...this.unresolved.values()]) {
      const attempt = job.attempts[job.attempts.length - 1];
      if (attempt?.node !== name) continue;
      this.unresolved.delete(job.id);
      void this.endLeftOpen(job, attempt, { reason: 'node_lost', message: `node '${name}' was lost` });
    }
  }
}

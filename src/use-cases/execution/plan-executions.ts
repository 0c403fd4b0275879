import { randomBytes } from 'crypto';
import { TierResources, tierTotals } from '../../domain/allocation';
import { placementOfCluster } from '../../domain/cluster';
import { allocationOf, reportOf } from '../../domain/cluster';
import { ConflictError, ErrorCode, errorCode, errorMessage, HeldByJobsError, NotFoundError } from '../../domain/errors';
import { EventBus, ExecutionKind } from '../../domain/events';
import { Execution, isFinished, kindOf, newExecution } from '../../domain/execution';
import { rollbackTarget, rollsBackAutomatically } from '../../domain/rollback';
import { mergePlan, PartialPlan } from '../../domain/plan';
import { Executor } from '../../executor/executor';
import { Decision, decide, decideTarget, Snapshot, SolvedDecision, takeSnapshot } from './decide';
import { NodeLimitsRequest } from '../nodes/node-limits';
import { refreshDeployment } from '../cluster/refresh-cluster';
import { ExecutionJournal } from './execution-journal';
import { log } from '../../log';
import { Knowledge, Services } from '../cluster/knowledge';
import { observeCluster } from '../cluster/observe-cluster';
import { SerialQueue } from './serial-queue';
import { NO_JOBS } from '../jobs/job-holdings';
import { yieldingToJobs } from '../jobs/yield-to-jobs';
import { clashWithJobs, reservationOf } from '../jobs/held-by-jobs';
import { ExecutionQueue, ExecutionRequest, SubmitOptions, Submitted } from './execution-queue';

export type { ExecutionRequest, SubmitOptions, Submitted };
export type { NodeLimitsRequest };

/** An execution whose record is open (saved as queued), waiting for its turn. */
interface Opened {
  journal: ExecutionJournal;
  request: ExecutionRequest;
  controller: AbortController;
  /** The record's first write. */
  written: Promise<void>;
}

interface QueuedExecution {
  opened: Opened;
  journal: ExecutionJournal;
  request: ExecutionRequest;
  /** A plan's own values, before older plans were merged into it. */
  ownPlan?: PartialPlan;
  controller: AbortController;
  coalescing: boolean;
  /** SerialQueue.queuedCount right after this execution was queued. */
  ticket: number;
  started: boolean;
  /** Merged into the newer execution of this id, which carries it out on its turn (its own turn is passed over). */
  mergedInto?: string;
  /** The older plans merged into this one, oldest first. */
  merged: QueuedExecution[];
  /** What `done` settles with: this execution, or the outcome of the one that superseded it. */
  outcome: Promise<Execution>;
  settle: (outcome: Execution | Promise<Execution>) => void;
}

/** Every tier of `totals` within `bound`, cores and memory. */
function isWithin(totals: TierResources, bound: TierResources): boolean {
  return Object.entries(totals).every(([tier, r]) => bound[tier] !== undefined && r.cpu_cores <= bound[tier].cpu_cores && r.mem_units <= bound[tier].mem_units);
}

function isPlanRequest(request: ExecutionRequest): request is { kind?: ExecutionKind; plan: PartialPlan } {
  return (request.kind ?? 'plan') === 'plan' && !('target' in request) && !('decision' in request) && !('prepare' in request)
    && !('nodes' in request && request.nodes) && request.plan !== undefined;
}

export type ExecutionServices = Pick<Services, 'allocator' | 'runtimeFor' | 'hookRunner' | 'hookSource' | 'executions' | 'systemContainers' | 'jobs'>;

/**
 * Every applied plan is an execution: queued on submit, then, on its turn, decided against the
 * state at that moment (not at submit time), carried out, and recorded. Plans run one at a time in
 * arrival order, on the same queue as topology loads. The record changes only through an
 * `ExecutionJournal` (which publishes each transition on the bus); the cluster only through the
 * Knowledge.
 */
export class PlanExecutions {
  private readonly running = new Map<string, AbortController>();
  /** Plans merged into a newer one that has not finished its turn: their id to the newer one's. */
  private readonly mergedInto = new Map<string, string>();
  /** The newest plan queued, while it waits. */
  private tail: QueuedExecution | undefined;
  /** Executions of `running` that have left the queue. */
  private readonly started = new Set<string>();
  private readonly executor: Executor;
  /** The queue as the daemon's own use cases see it: any kind of execution, submitted one way. */
  readonly intake: ExecutionQueue = { submit: (request, options) => this.submitExecution(request, options) };

  constructor(
    private readonly knowledge: Knowledge,
    private readonly services: ExecutionServices,
    private readonly queue: SerialQueue,
    private readonly events: EventBus,
  ) {
    this.executor = new Executor({
      runtimeFor: services.runtimeFor,
      hooks: services.hookRunner,
      systems: services.systemContainers,
    });
  }

  /** Plans a stopped daemon left queued, oldest first, waiting for `resumeQueued`. */
  private leftQueued: Execution[] = [];

  /**
   * What a stopped daemon (or a leader that lost its lease) left unfinished (SPEC §7, §12): the
   * execution that was running, and queued executions other than plans, are marked failed with code
   * `interrupted`; queued plans are kept for `resumeQueued`, which carries them on in their order
   * once the topology is restored. Answers how many were marked.
   */
  async recoverInterrupted(): Promise<number> {
    // Only the unfinished ones are read (an indexed query), whatever the length of the history.
    const unfinished = await this.services.executions.listUnfinished();
    const order = (a: Execution, b: Execution) => a.created_at.localeCompare(b.created_at) || a.id.localeCompare(b.id);
    this.leftQueued = unfinished.filter((e) => e.status === 'queued' && kindOf(e) === 'plan' && Object.keys(e.plan ?? {}).length > 0).sort(order);
    const resumable = new Set(this.leftQueued.map((e) => e.id));
    const interrupted = unfinished.filter((e) => !resumable.has(e.id));
    for (const execution of interrupted) await ExecutionJournal.interrupted(execution, this.services.executions, this.events);
    return interrupted.length;
  }

  /** Queues again, in their order and under their own records, the plans `recoverInterrupted` kept; answers how many. */
  resumeQueued(): number {
    const left = this.leftQueued;
    this.leftQueued = [];
    for (const execution of left) {
      execution.notes = [...(execution.notes ?? []), 'queued when the daemon that took it stopped; carried on in its place by the next one'];
      void this.submitExecution({ kind: 'plan', plan: execution.plan }, { coalesce: false, resume: execution });
    }
    return left.length;
  }

  /**
   * Queues a plan already validated against the topology. `done` settles with the finished
   * execution; it never rejects (failures are part of the record). A plan merged into a newer one
   * before its turn (see SubmitOptions) settles with the execution that carried it out.
   */
  async submit(plan: PartialPlan, kind: ExecutionKind = 'plan', options: SubmitOptions = {}): Promise<Submitted> {
    return this.submitExecution({ kind, plan }, options);
  }

  /**
   * Queues any kind of execution (see `ExecutionRequest`); `done` never rejects. The execution takes
   * its place in the queue at once, before its record is written, so executions run in the order
   * they were submitted whatever the store does.
   */
  async submitExecution(request: ExecutionRequest, options: SubmitOptions = {}): Promise<Submitted> {
    // Everything up to queue.run is synchronous: the arrival order is the queue order.
    const coalescing = options.coalesce !== false && isPlanRequest(request);
    const older = coalescing ? this.coalescableTail() : undefined;
    const merged: ExecutionRequest = older && isPlanRequest(request) && isPlanRequest(older.request)
      ? { ...request, plan: { ...older.request.plan, ...request.plan } }
      : request;
    const opened = this.open(merged, options.resume);
    const { journal, controller } = opened;
    const { execution } = journal;
    let settle!: (outcome: Execution | Promise<Execution>) => void;
    const entry: QueuedExecution = {
      opened, journal, request: merged, ownPlan: isPlanRequest(request) ? request.plan : undefined, controller, coalescing,
      ticket: 0, started: false, merged: older ? [...older.merged, older] : [],
      outcome: new Promise<Execution>((resolve) => { settle = resolve; }), settle,
    };
    if (older) {
      // The older plan's record stays queued until this one's turn decides how both are carried out.
      older.mergedInto = execution.id;
      this.running.delete(older.journal.execution.id);
      this.mergedInto.set(older.journal.execution.id, execution.id);
    }
    const job = this.queue.run(async () => {
      entry.started = true;
      if (this.tail === entry) this.tail = undefined;
      if (entry.mergedInto) return;
      try {
        await opened.written;
      } catch (e) {
        this.carryMerged(entry);
        journal.finish('cancelled', { code: errorCode(e), message: `the execution could not be recorded: ${errorMessage(e)}` });
        entry.settle(execution);
        return;
      }
      try {
        if (entry.merged.length > 0) await this.carryOutMerged(entry);
        else entry.settle(await this.carryOutWithFollowUps(opened));
      } catch (e) {
        entry.settle(execution);
        throw e;
      }
    }).finally(() => {
      this.running.delete(execution.id);
      for (const m of entry.merged) this.mergedInto.delete(m.journal.execution.id);
    });
    job.catch((e) => log.error({ execution_id: execution.id, err: errorMessage(e) }, 'execution or its follow-up failed unexpectedly'));
    entry.ticket = this.queue.queuedCount;
    this.tail = coalescing ? entry : undefined;
    await opened.written;
    return { execution, done: entry.outcome };
  }

  /**
   * Carries out an execution and the follow-up it asks for (the rollback of a failed plan) in the
   * same turn, before anything queued behind: a plan waiting its turn is decided over the
   * rolled-back state, never undone by it. Resolves with the execution itself.
   */
  private async carryOutWithFollowUps(opened: Opened): Promise<Execution> {
    let outcome: Execution | undefined;
    let turn: Opened | undefined = opened;
    while (turn) {
      const { execution: finished, followUp } = await this.carryOut(turn);
      outcome ??= finished;
      turn = followUp;
    }
    return outcome!;
  }

  /** The older plans merged into `entry` end `superseded`, each by the plan it was merged into; their waiters get `entry`'s outcome. */
  private carryMerged(entry: QueuedExecution): void {
    entry.journal.carries(entry.merged.map((m) => m.journal.execution.id));
    for (const older of entry.merged) {
      older.journal.superseded(older.mergedInto!);
      older.settle(entry.outcome);
    }
  }

  /**
   * The turn of a plan older plans were merged into. The merged plan is decided first; when it has
   * an allocation, it is carried out as one execution and the older plans end `superseded`. When it
   * has none, applying the plans in arrival order may still succeed (an older plan that cannot be
   * met alone fails, and the newer ones are decided without it), so each plan is carried out on its
   * own, oldest first, and answered with its own outcome; the newest one's record says so.
   */
  private async carryOutMerged(entry: QueuedExecution): Promise<void> {
    const { opened } = entry;
    let decision: Decision | undefined;
    if (!entry.controller.signal.aborted && isPlanRequest(entry.request)) {
      const { plan, constraints } = entry.request;
      try {
        this.knowledge.clusterObserved(await refreshDeployment(this.knowledge, this.services.runtimeFor));
        const snapshot = await takeSnapshot(this.knowledge.requireDeployment(), this.services.runtimeFor, this.services.jobs);
        const decideOver = (p: PartialPlan) => decide(snapshot, this.services.allocator, p, constraints, this.knowledge.nodes.limits());
        try {
          const solved = await decideOver(plan);
          decision = solved;
          const unmet = await this.firstUnmetOlderPlan(entry, snapshot, solved, decideOver);
          if (unmet) {
            await this.applyInOrder(entry, unmet);
            return;
          }
        } catch (e) {
          // The merged plan itself cannot be decided: no allocation, or a tier the topology in force lacks.
          await this.applyInOrder(entry, `the merged plan: ${errorMessage(e)}`);
          return;
        }
      } catch {
        // The engines or the cloud did not answer: the turn below meets the same and records it.
        decision = undefined;
      }
    }
    this.carryMerged(entry);
    const request: ExecutionRequest = decision ? { kind: entry.request.kind ?? 'plan', decision } : entry.request;
    entry.settle(await this.carryOutWithFollowUps({ ...opened, request }));
  }

  /**
   * Merging equals applying in order only when every older plan would have been met in its turn:
   * one that would have failed must not have its other tiers applied by the merge. Each older
   * plan's totals in arrival order (what running the plans one by one would have in force after
   * it) are checked over the same snapshot; totals within what runs now or within the merged
   * plan's need no solve (taking resources away never makes a placement impossible). Returns why
   * the first unmet one fails, if any.
   */
  private async firstUnmetOlderPlan(
    entry: QueuedExecution, snapshot: Snapshot, merged: SolvedDecision, decideOver: (p: PartialPlan) => Promise<unknown>,
  ): Promise<string | undefined> {
    const now = tierTotals(placementOfCluster(snapshot.cluster));
    let sofar: PartialPlan = {};
    for (const older of entry.merged) {
      sofar = { ...sofar, ...(older.ownPlan ?? {}) };
      const totals = mergePlan(sofar, now);
      if (isWithin(totals, now) || isWithin(totals, merged.problem.plan)) continue;
      try {
        await decideOver(sofar);
      } catch (e) {
        return `${older.journal.execution.id}: ${errorMessage(e)}`;
      }
    }
    return undefined;
  }

  private async applyInOrder(entry: QueuedExecution, why: string): Promise<void> {
    const outcomes: string[] = [];
    for (const older of entry.merged) {
      const own: Opened = { ...older.opened, request: { kind: older.request.kind ?? 'plan', plan: older.ownPlan ?? {} } };
      older.journal.appliedAlone(older.ownPlan ?? {}, `merged into ${older.mergedInto}, but merging would not equal applying the plans in order (${why}): applied on its own, in arrival order`);
      const finished = await this.carryOutWithFollowUps(own);
      older.settle(finished);
      outcomes.push(`${finished.id} ${finished.status}${finished.error ? ` (${finished.error.code})` : ''}`);
    }
    entry.journal.appliedAlone(entry.ownPlan ?? {},
      `merging would not equal applying the plans in order (${why}); they were applied one by one in arrival order instead: ${outcomes.join(', ')}, then this plan alone`);
    entry.settle(await this.carryOutWithFollowUps({ ...entry.opened, request: { kind: entry.request.kind ?? 'plan', plan: entry.ownPlan ?? {} } }));
  }

  /** The newest queued plan, when nothing else was queued after it and it may still be merged into a newer one. */
  private coalescableTail(): QueuedExecution | undefined {
    const tail = this.tail;
    if (!tail || tail.started || tail.mergedInto || !tail.coalescing) return undefined;
    if (tail.controller.signal.aborted || tail.ticket !== this.queue.queuedCount) return undefined;
    return tail;
  }

  /** A new record for the request, its first write started (`written`). */
  private open(request: ExecutionRequest, resume?: Execution): Opened {
    const plan = request.plan ?? ('target' in request ? tierTotals(request.target) : 'decision' in request ? tierTotals(request.decision.target) : {});
    const execution = resume ?? newExecution(newExecutionId(), plan, request.kind ?? 'plan');
    if (request.about?.rollback_of) execution.rollback_of = request.about.rollback_of;
    if (request.about?.notes?.length) execution.notes = [...request.about.notes];
    const journal = new ExecutionJournal(execution, this.services.executions, this.events);
    const controller = new AbortController();
    this.running.set(journal.execution.id, controller);
    return { journal, request, controller, written: journal.open() };
  }

  /** The rollback the topology's `on_failure: rollback` asks for after this finished execution, opened; none when not asked or not possible (said in the record). */
  private async followUpOf(journal: ExecutionJournal): Promise<Opened | undefined> {
    const deployment = this.knowledge.deployment;
    if (!deployment || !rollsBackAutomatically(journal.execution, deployment.topology)) return undefined;
    try {
      const { target, notes } = rollbackTarget(journal.execution, { ...deployment, elastic: deployment.cloud.isElastic });
      const opened = this.open({ kind: 'rollback', target, about: { rollback_of: journal.execution.id, notes } });
      await opened.written;
      journal.rolledBackBy(opened.journal.execution.id);
      return opened;
    } catch (e) {
      journal.note(`on_failure rollback not possible: ${errorMessage(e)}`);
      return undefined;
    }
  }

  async cancel(id: string): Promise<Execution> {
    const execution = await this.services.executions.get(id);
    if (!execution) throw new NotFoundError(`execution '${id}' not found`);
    const carrier = this.mergedInto.get(id);
    if (carrier) throw new ConflictError(`execution '${id}' was merged into '${carrier}', which carries it out: cancel that one`);
    const controller = this.running.get(id);
    if (!controller || isFinished(execution.status)) throw new ConflictError(`execution '${id}' has already ${execution.status}`);
    controller.abort();
    return execution;
  }

  /**
   * Shutting down: executions still queued are cancelled at once; the running one may finish
   * within `deadlineMs`, after which it is cancelled (what did not run is marked so). Resolves
   * when nothing runs any more.
   */
  async shutdown(deadlineMs: number): Promise<void> {
    for (const [id, controller] of this.running) if (!this.started.has(id)) controller.abort();
    const idle = this.queue.idle();
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<'deadline'>((resolve) => { timer = setTimeout(() => resolve('deadline'), deadlineMs); });
    const outcome = await Promise.race([idle.then(() => 'idle' as const), deadline]);
    clearTimeout(timer);
    if (outcome === 'deadline') {
      for (const controller of this.running.values()) controller.abort();
      await idle;
    }
  }

  private async carryOut({ journal, request, controller }: Opened): Promise<{ execution: Execution; followUp?: Opened }> {
    this.started.add(journal.execution.id);
    try {
      return await this.carryOutTurn(journal, request, controller);
    } finally {
      this.running.delete(journal.execution.id);
      this.started.delete(journal.execution.id);
    }
  }

  private async carryOutTurn(journal: ExecutionJournal, request: ExecutionRequest, controller: AbortController): Promise<{ execution: Execution; followUp?: Opened }> {
    const { execution } = journal;
    if (controller.signal.aborted) {
      journal.finish('cancelled', undefined);
      await journal.flush();
      return { execution };
    }
    const started = Date.now();
    journal.start();

    let deployment;
    let status: 'succeeded' | 'failed' | 'cancelled';
    let error: { code: ErrorCode; message: string } | undefined;
    try {
      deployment = this.knowledge.requireDeployment();
      // The engines' word on what still exists and runs (a stopped or removed container is not running as planned).
      // A prepared decision (drift repair) reads the engines itself.
      if (!('prepare' in request)) this.knowledge.clusterObserved(await refreshDeployment(this.knowledge, this.services.runtimeFor));
      // A decision that needs what running jobs hold waits for them up to job_yield_s, deciding again on each change.
      const jobs = this.services.jobs ?? NO_JOBS;
      const yieldMs = deployment.topology.infrastructure.jobYieldMs ?? 0;
      let observed = false;
      const decision = await yieldingToJobs(jobs, yieldMs, controller.signal, async () => {
        // Jobs start while a plan is decided: one that took what the decision gives tiers has it decided again.
        for (let attempt = 1; ; attempt++) {
          const snapshot = await takeSnapshot(this.knowledge.requireDeployment(), this.services.runtimeFor, jobs);
          if (!observed) journal.observed(allocationOf(snapshot.cluster), deployment!.topology.infrastructure.hooksGitRepo ? this.services.hookSource.currentCommit() : undefined);
          observed = true;
          const decided = 'decision' in request ? request.decision
            : 'target' in request ? decideTarget(snapshot, request.target)
            : 'prepare' in request ? await request.prepare(snapshot)
            : await decide(snapshot, this.services.allocator, request.plan, request.constraints, this.knowledge.nodes.limits(request.nodes));
          // Reserved and checked at once (no await between): a job either started before, and is seen, or will not start on it.
          const { cluster, topology } = this.knowledge.requireDeployment();
          const reservation = reservationOf(decided.translation.steps, decided.target, cluster);
          const clash = clashWithJobs(reservation, jobs.holdings(), cluster, topology.infrastructure.memUnitMb);
          if (!clash) {
            this.knowledge.reserveForTiers(reservation);
            return decided;
          }
          if (attempt >= 3 || 'decision' in request) throw new HeldByJobsError(clash);
        }
      }, (refusal) => journal.note(`waiting up to ${yieldMs / 1000} s (job_yield_s) for running jobs to end: ${refusal.message}`));
      journal.decided(decision);

      const runStarted = Date.now();
      const outcome = await this.executor.run(decision.translation.steps, {
        topology: deployment.topology,
        cloud: deployment.cloud,
        cluster: this.knowledge,
        report: journal,
        oldPlacement: decision.before,
        newPlacement: decision.target,
        signal: controller.signal,
      });
      journal.timing('run', Date.now() - runStarted);
      status = outcome.status;
      if (outcome.error) error = { code: outcome.status === 'cancelled' ? 'cancelled' : 'action_failed', message: outcome.error };
    } catch (e) {
      status = 'failed';
      error = { code: errorCode(e), message: errorMessage(e) };
    }

    if (deployment && execution.steps.length > 0 && status !== 'succeeded') {
      // After a partial run the engines are the truth: re-read them so the allocation is right.
      // A run that succeeded updated the cluster action by action and needs no second look.
      try {
        const { cloud, topology, cluster } = this.knowledge.requireDeployment();
        this.knowledge.clusterObserved(await observeCluster(cloud, this.services.runtimeFor, topology.infrastructure.memUnitMb, new Set(topology.tiers.keys()), cluster));
      } catch (e) {
        log.error({ execution_id: execution.id, err: errorMessage(e) }, 're-reading the cluster after the execution failed');
      }
    }
    this.knowledge.releaseTierReservation();
    journal.timing('total', Date.now() - started);
    journal.finish(status, error, deployment ? reportOf(this.knowledge.requireDeployment().cluster) : undefined);
    // What the tiers hold changed: queued jobs may start now (or must wait for a VM that went).
    if (execution.steps.length > 0) this.services.jobs?.poke();
    const followUp = await this.followUpOf(journal);
    await journal.flush();
    return { execution, followUp };
  }
}

let lastStamp = '';
let sequence = 0;

/** Sortable by creation time (the store lists by id), also for executions submitted in the same millisecond. */
function newExecutionId(): string {
  const stamp = new Date().toISOString().replace(/[-:]/g, '').replace('.', '').replace('Z', '');
  sequence = stamp === lastStamp ? sequence + 1 : 0;
  lastStamp = stamp;
  return `${stamp}${String(sequence).padStart(3, '0')}-${randomBytes(3).toString('hex')}`;
}

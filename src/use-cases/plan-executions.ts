import { randomBytes } from 'crypto';
import { Placement, TierResources, tierTotals } from '../domain/allocation';
import { allocationOf, reportOf } from '../domain/cluster';
import { ConflictError, ErrorCode, errorCode, errorMessage, NotFoundError } from '../domain/errors';
import { EventBus, ExecutionKind } from '../domain/events';
import { Execution, isFinished, newExecution } from '../domain/execution';
import { PartialPlan } from '../domain/plan';
import { Executor } from '../executor/executor';
import { Decision, decide, decideTarget, ProblemConstraints, takeSnapshot } from './decide';
import { ExecutionJournal } from './execution-journal';
import { log } from '../log';
import { Knowledge, Services } from './knowledge';
import { observeCluster } from './observe-cluster';
import { SerialQueue } from './serial-queue';

/**
 * What to carry out. A plan is decided when its turn comes, against the state at that moment; a
 * target placement is translated then, without solving; a ready decision is carried out as it is
 * (its caller took it over the state it knows will hold). `plan` is what the record shows;
 * `constraints` add terms to the allocation problem (where tiers may run, what must stay).
 */
export type ExecutionRequest =
  | { kind?: ExecutionKind; plan: PartialPlan; constraints?: ProblemConstraints }
  | { kind: ExecutionKind; target: Placement; plan?: TierResources }
  | { kind: ExecutionKind; decision: Decision; plan?: TierResources };

export type ExecutionServices = Pick<Services, 'allocator' | 'runtimeFor' | 'hookRunner' | 'hookSource' | 'executions'>;

/**
 * Every applied plan is an execution: queued on submit, then, on its turn, decided against the
 * state at that moment (not at submit time), carried out, and recorded. Plans run one at a time in
 * arrival order, on the same queue as topology loads. The record changes only through an
 * `ExecutionJournal` (which publishes each transition on the bus); the cluster only through the
 * Knowledge.
 */
export class PlanExecutions {
  private readonly running = new Map<string, AbortController>();
  /** Executions of `running` that have left the queue. */
  private readonly started = new Set<string>();
  private readonly executor: Executor;

  constructor(
    private readonly knowledge: Knowledge,
    private readonly services: ExecutionServices,
    private readonly queue: SerialQueue,
    private readonly events: EventBus,
  ) {
    this.executor = new Executor({
      runtimeFor: (vm) => services.runtimeFor(vm.docker),
      hooks: services.hookRunner,
    });
  }

  /** Executions a stopped daemon left queued or running are marked failed with code `interrupted`. */
  async recoverInterrupted(): Promise<number> {
    // Only the unfinished ones are read (an indexed query), whatever the length of the history.
    const unfinished = await this.services.executions.listUnfinished();
    for (const execution of unfinished) await ExecutionJournal.interrupted(execution, this.services.executions, this.events);
    return unfinished.length;
  }

  /**
   * Queues a plan already validated against the topology. `done` settles with the finished
   * execution; it never rejects (failures are part of the record).
   */
  async submit(plan: PartialPlan, kind: ExecutionKind = 'plan'): Promise<{ execution: Execution; done: Promise<Execution> }> {
    return this.submitExecution({ kind, plan });
  }

  /** Queues any kind of execution (see `ExecutionRequest`); `done` never rejects. */
  async submitExecution(request: ExecutionRequest): Promise<{ execution: Execution; done: Promise<Execution> }> {
    const plan = request.plan ?? ('target' in request ? tierTotals(request.target) : 'decision' in request ? tierTotals(request.decision.target) : {});
    const journal = new ExecutionJournal(newExecution(newExecutionId(), plan, request.kind ?? 'plan'), this.services.executions, this.events);
    const { execution } = journal;
    const controller = new AbortController();
    this.running.set(execution.id, controller);
    await journal.open();
    const done = this.queue.run(() => { this.started.add(execution.id); return this.carryOut(journal, request, controller); })
      .finally(() => { this.running.delete(execution.id); this.started.delete(execution.id); });
    return { execution, done };
  }

  async cancel(id: string): Promise<Execution> {
    const execution = await this.services.executions.get(id);
    if (!execution) throw new NotFoundError(`execution '${id}' not found`);
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

  private async carryOut(journal: ExecutionJournal, request: ExecutionRequest, controller: AbortController): Promise<Execution> {
    const { execution } = journal;
    if (controller.signal.aborted) {
      journal.finish('cancelled', undefined);
      await journal.flush();
      return execution;
    }
    const started = Date.now();
    journal.start();

    let deployment;
    let status: 'succeeded' | 'failed' | 'cancelled';
    let error: { code: ErrorCode; message: string } | undefined;
    try {
      deployment = this.knowledge.requireDeployment();
      const snapshot = await takeSnapshot(deployment);
      journal.observed(allocationOf(snapshot.cluster), deployment.topology.infrastructure.hooksGitRepo ? this.services.hookSource.currentCommit() : undefined);
      const decision = 'decision' in request ? request.decision
        : 'target' in request ? decideTarget(snapshot, request.target)
        : await decide(snapshot, this.services.allocator, request.plan, request.constraints);
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
        this.knowledge.replaceCluster(await observeCluster(cloud, this.services.runtimeFor, topology.infrastructure.memUnitMb, new Set(topology.tiers.keys()), cluster));
      } catch (e) {
        log.error({ execution_id: execution.id, err: errorMessage(e) }, 're-reading the cluster after the execution failed');
      }
    }
    journal.timing('total', Date.now() - started);
    journal.finish(status, error, deployment ? reportOf(this.knowledge.requireDeployment().cluster) : undefined);
    await journal.flush();
    return execution;
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

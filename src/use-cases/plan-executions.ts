import { randomBytes } from 'crypto';
import { allocationOf } from '../domain/cluster';
import { ConflictError, DomainError, NotFoundError } from '../domain/errors';
import { Execution, isFinished } from '../domain/execution';
import { PartialPlan } from '../domain/plan';
import { errorMessage, Executor, newRecords } from '../executor/executor';
import { log } from '../log';
import { decide } from './decide';
import { Knowledge, Services } from './knowledge';
import { observeCluster } from './observe-cluster';
import { SerialQueue } from './serial-queue';

/**
 * Every applied plan is an execution: queued on submit, then, on its turn, decided against the
 * state at that moment (not at submit time), carried out, and recorded. Plans run one at a time in
 * arrival order, on the same queue as topology loads.
 */
export class PlanExecutions {
  private readonly running = new Map<string, AbortController>();
  /** Executions of `running` that have left the queue. */
  private readonly started = new Set<string>();
  private readonly executor: Executor;

  constructor(
    private readonly knowledge: Knowledge,
    private readonly services: Services,
    private readonly queue: SerialQueue,
  ) {
    this.executor = new Executor({
      get cloud() { return knowledge.requireDeployment().cloud; },
      runtimeFor: (vm) => services.runtimeFor(vm.docker),
      hooks: services.hookRunner,
    });
  }

  /**
   * Executions a stopped daemon left queued or running are marked failed with code `interrupted`;
   * an action that was running says it was interrupted (whether its change took effect is for the
   * engines to tell: the allocation is re-read from them), one that had not started is `skipped`.
   */
  async recoverInterrupted(): Promise<number> {
    const unfinished = await this.services.executions.listUnfinished();
    for (const execution of unfinished) {
      const now = new Date().toISOString();
      execution.status = 'failed';
      execution.finished_at = now;
      execution.error = { code: 'interrupted', message: 'the daemon stopped while this execution was queued or running' };
      for (const layer of execution.steps) {
        for (const r of layer) {
          if (r.status === 'running') {
            Object.assign(r, { status: 'failed', finished_at: now, error: 'interrupted: the daemon stopped while this action was running' });
          } else if (r.status === 'pending') {
            r.status = 'skipped';
          }
        }
      }
      await this.services.executions.save(execution);
    }
    return unfinished.length;
  }

  /**
   * Queues a plan already validated against the topology. `done` settles with the finished
   * execution; it never rejects (failures are part of the record).
   */
  async submit(plan: PartialPlan): Promise<{ execution: Execution; done: Promise<Execution> }> {
    const execution: Execution = {
      id: newExecutionId(), status: 'queued', plan, created_at: new Date().toISOString(), steps: [], timings_ms: {},
    };
    const controller = new AbortController();
    this.running.set(execution.id, controller);
    await this.services.executions.save(execution);
    const done = this.queue.run(() => { this.started.add(execution.id); return this.carryOut(execution, controller); })
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

  private async carryOut(execution: Execution, controller: AbortController): Promise<Execution> {
    const save = () => this.services.executions.save(execution).catch((e) => log.error({ execution_id: execution.id, err: errorMessage(e) }, 'saving the execution failed'));
    if (controller.signal.aborted) {
      execution.status = 'cancelled';
      execution.finished_at = new Date().toISOString();
      await save();
      return execution;
    }
    const started = Date.now();
    execution.status = 'running';
    execution.started_at = new Date().toISOString();
    // Progress is written in the background (the store keeps one execution's writes in order);
    // only the final record is waited for.
    void save();

    let deployment;
    try {
      deployment = this.knowledge.requireDeployment();
      execution.allocation_before = allocationOf(deployment.cluster);
      execution.hooks_commit = deployment.topology.infrastructure.hooksGitRepo ? this.services.hookSource.currentCommit() : undefined;
      const decision = await decide(deployment, this.services, execution.plan);
      Object.assign(execution, {
        cost: decision.result.cost, lower_bound: decision.result.lowerBound, optimal: decision.result.optimal,
        target: decision.result.placement, steps: newRecords(decision.translation.steps),
      });
      execution.timings_ms = { ...decision.timingsMs };
      void save();

      const runStarted = Date.now();
      let lastSave = 0;
      const outcome = await this.executor.run(execution.steps, {
        topology: deployment.topology,
        cluster: deployment.cluster,
        oldPlacement: decision.before,
        newPlacement: decision.result.placement,
        signal: controller.signal,
        onChange: () => {
          // Followers see progress; a busy execution writes at most every 200 ms.
          if (Date.now() - lastSave > 200) { lastSave = Date.now(); void save(); }
        },
      });
      execution.timings_ms.run = Date.now() - runStarted;
      execution.status = outcome.status;
      if (outcome.error) execution.error = { code: outcome.status === 'cancelled' ? 'cancelled' : 'action_failed', message: outcome.error };
    } catch (e) {
      execution.status = 'failed';
      execution.error = { code: e instanceof DomainError ? e.code : 'internal', message: errorMessage(e) };
    }

    if (deployment && execution.steps.length > 0 && execution.status !== 'succeeded') {
      // After a partial run the engines are the truth: re-read them so the allocation is right.
      // A run that succeeded updated the cluster action by action and needs no second look.
      try {
        deployment.cluster = await observeCluster(deployment.cloud, this.services.runtimeFor, deployment.topology.infrastructure.memUnitMb, new Set(deployment.topology.tiers.keys()), deployment.cluster);
      } catch (e) {
        log.error({ execution_id: execution.id, err: errorMessage(e) }, 're-reading the cluster after the execution failed');
      }
    }
    if (deployment) execution.allocation_after = allocationOf(deployment.cluster);
    execution.finished_at = new Date().toISOString();
    execution.timings_ms.total = Date.now() - started;
    await save();
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

import { randomBytes } from 'crypto';
import { allocationOf } from '../domain/cluster';
import { ConflictError, DomainError, NotFoundError } from '../domain/errors';
import { Execution, isFinished } from '../domain/execution';
import { PartialPlan } from '../domain/plan';
import { errorMessage, Executor, newRecords } from '../executor/executor';
import { decide } from './decide';
import { Knowledge, Services } from './knowledge';
import { observeCluster } from './observe-cluster';
import { refreshCluster } from './refresh-cluster';
import { SerialQueue } from './serial-queue';

/**
 * Every applied plan is an execution: queued on submit, then, on its turn, decided against the
 * state at that moment (not at submit time), carried out, and recorded. Plans run one at a time in
 * arrival order, on the same queue as topology loads.
 */
export class PlanExecutions {
  private readonly running = new Map<string, AbortController>();
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

  /** Executions a stopped daemon left queued or running are marked failed with code `interrupted`. */
  async recoverInterrupted(): Promise<number> {
    let recovered = 0;
    for (let offset = 0; ; offset += 100) {
      const page = await this.services.executions.list({ limit: 100, offset });
      for (const execution of page.items) {
        if (isFinished(execution.status)) continue;
        execution.status = 'failed';
        execution.finished_at = new Date().toISOString();
        execution.error = { code: 'interrupted', message: 'the daemon stopped while this execution was queued or running' };
        for (const layer of execution.steps) for (const r of layer) if (r.status === 'pending' || r.status === 'running') r.status = r.status === 'running' ? 'failed' : 'skipped';
        await this.services.executions.save(execution);
        recovered++;
      }
      if (offset + page.items.length >= page.total) return recovered;
    }
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
    const done = this.queue.run(() => this.carryOut(execution, controller)).finally(() => this.running.delete(execution.id));
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

  private async carryOut(execution: Execution, controller: AbortController): Promise<Execution> {
    const save = () => this.services.executions.save(execution).catch((e) => console.error(`saving execution ${execution.id}: ${errorMessage(e)}`));
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
      // The engines' word on what still exists and runs (a stopped or removed container is not running as planned).
      deployment.cluster = await refreshCluster(deployment.cluster, this.services.runtimeFor, deployment.topology.infrastructure.memUnitMb,
        new Set(deployment.topology.tiers.keys()), new Set(this.knowledge.nodes.unreachable()));
      execution.allocation_before = allocationOf(deployment.cluster);
      execution.hooks_commit = deployment.topology.infrastructure.hooksGitRepo ? this.services.hookSource.currentCommit() : undefined;
      const decision = await decide(deployment, this.services, execution.plan, this.knowledge.nodes.limits());
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
        console.error(`re-reading the cluster after execution ${execution.id}: ${errorMessage(e)}`);
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

import { EventBus } from '../../domain/events';
import { ExecutionQueue, Submitted } from '../execution/execution-queue';
import { Knowledge, Services } from '../cluster/knowledge';
import { Preview, previewPlan } from '../execution/preview-plan';
import { NodeReport, readNode } from './read-nodes';
import { JobHolding, NO_JOBS } from '../jobs/job-holdings';
import { describeHolding } from '../jobs/held-by-jobs';

/**
 * Operator decisions on nodes: cordon (no new containers; what runs stays), uncordon, and the
 * preview of a drain. Cordons are written to the state store before they are answered, so a
 * restart keeps them (fliswarm kept its enable/disable in memory only).
 */
export class NodeAdmin {
  private saving: Promise<void> = Promise.resolve();

  constructor(
    private readonly knowledge: Knowledge,
    private readonly services: Services,
    /** Where a drain is carried out, as an execution of kind `drain`. */
    private readonly executions: ExecutionQueue,
    /** Told of every cordon change (the node feed). */
    private readonly events?: EventBus,
  ) {}

  /** Puts the persisted cordons back (at start, before the topology is restored). */
  async restore(): Promise<void> {
    if (!this.services.nodeStates) return;
    const { cordoned } = await this.services.nodeStates.load();
    this.knowledge.nodes.setCordons(cordoned);
  }

  async cordon(name: string): Promise<NodeReport> {
    return this.setCordon(name, true);
  }

  async uncordon(name: string): Promise<NodeReport> {
    return this.setCordon(name, false);
  }

  /**
   * Cordons the node, then moves every container off it through the allocator as an execution of
   * kind `drain` (the node stays cordoned afterwards). Resolves when the execution is queued.
   * Running jobs are not moved or stopped: the cordon keeps new ones away, and the node is not
   * released before they end (the record's notes name them; docs/jobs.md "Jobs and plans").
   */
  async drain(name: string): Promise<Submitted> {
    await this.cordon(name);
    const pool = this.knowledge.nodes;
    pool.startDrain(name);
    try {
      const running = this.jobsOn(name);
      const notes = running.length > 0
        ? [`jobs keep running on ${name} until they end; the node is not released before: ${running.map(describeHolding).join(', ')}`]
        : [];
      const submitted = await this.executions.submit({
        kind: 'drain', plan: {}, nodes: { cordoned: [name], draining: [name] }, ...(notes.length > 0 ? { about: { notes } } : {}),
      });
      void submitted.done.finally(() => pool.endDrain(name));
      return submitted;
    } catch (e) {
      pool.endDrain(name);
      throw e;
    }
  }

  /**
   * What draining the node would do now: its containers placed elsewhere; nothing changes. `jobs`:
   * the jobs running there, which the drain leaves running (the node stays until they end).
   */
  async previewDrain(name: string): Promise<Preview & { node: string; jobs?: { job: string; template: string; cores: number; memory_mb: number; deadline?: string }[] }> {
    this.knowledge.requireVm(name);
    const preview = await previewPlan(this.knowledge, this.services, {}, { cordoned: [name], draining: [name] });
    const running = this.jobsOn(name);
    return {
      node: name, ...preview,
      ...(running.length > 0 ? { jobs: running.map((h) => ({ job: h.job, template: h.template, cores: h.cores, memory_mb: h.memoryMb, ...(h.deadline ? { deadline: h.deadline } : {}) })) } : {}),
    };
  }

  private jobsOn(name: string): JobHolding[] {
    return (this.services.jobs ?? NO_JOBS).holdings().filter((h) => h.vm === name);
  }

  private async setCordon(name: string, cordoned: boolean): Promise<NodeReport> {
    this.knowledge.requireVm(name);
    const pool = this.knowledge.nodes;
    const changed = cordoned ? pool.cordon(name) : pool.uncordon(name);
    if (changed) {
      // Writes one after the other, each with the whole set as it is then.
      const store = this.services.nodeStates;
      const write = this.saving.then(() => store?.save({ cordoned: pool.cordoned() }));
      this.saving = write.catch(() => undefined);
      try {
        await write;
      } catch (e) {
        if (cordoned) pool.uncordon(name); else pool.cordon(name);
        throw e;
      }
      this.events?.publish({ type: 'node', name, cordoned, at: new Date().toISOString() });
    }
    return readNode(this.knowledge, name)!;
  }
}

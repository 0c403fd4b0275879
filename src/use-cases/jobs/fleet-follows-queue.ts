import { Action, describeAction } from '../../domain/action';
import { Placement } from '../../domain/allocation';
import { placementOfCluster } from '../../domain/cluster';
import { Execution } from '../../domain/execution';
import { Resources } from '../../domain/resources';
import { DEFAULT_SCALE_IN_IDLE_MS } from '../../domain/topology';
import { log } from '../../log';
import { PeriodicPass } from '../daemon/periodic-pass';
import { Knowledge, Services } from '../cluster/knowledge';
import { Decision, Snapshot } from '../execution/decide';
import { ExecutionQueue } from '../execution/execution-queue';
import { JobDemand, NO_JOBS } from './job-holdings';

export interface FleetOptions {
  /** How often the queue and the fleet are compared (default 5 s). */
  intervalMs?: number;
  /**
   * After a VM added for a job has joined, how long the job has to start on it before its demand
   * may grow the fleet again (default 60 s).
   */
  joinGraceMs?: number;
  now?: () => number;
}

/**
 * The demands that fit in new VMs of `vmSize`, first fit in arrival order: one list of demands per
 * new VM. Demands no VM of that size could hold, or with a node selector (new VMs carry no labels),
 * are left out.
 */
export function firstFit(demands: readonly JobDemand[], vmSize: Resources): JobDemand[][] {
  const bins: { left: Resources; demands: JobDemand[] }[] = [];
  for (const d of demands) {
    if (d.cores > vmSize.cpu_cores || d.memUnits > vmSize.mem_units) continue;
    if (d.selector && Object.keys(d.selector).length > 0) continue;
    let bin = bins.find((b) => b.left.cpu_cores >= d.cores && b.left.mem_units >= d.memUnits);
    if (!bin) {
      bin = { left: { ...vmSize }, demands: [] };
      bins.push(bin);
    }
    bin.left = { cpu_cores: bin.left.cpu_cores - d.cores, mem_units: bin.left.mem_units - d.memUnits };
    bin.demands.push(d);
  }
  return bins.map((b) => b.demands);
}

/**
 * The fleet follows the job queue (SPEC §10 "Fleet"), on an elastic cloud only: queued jobs that fit
 * on no node make it grow by as many VMs of `vm_size` as they need (first fit), within `max_vms` and
 * the cloud's own limit; a VM with no tier container and no job for `scale_in_idle_s` is released.
 * Both are executions of kind `scale`, queued like any other and decided on their turn: the VMs to
 * release are looked at again then, and one a job or a tier took meanwhile is kept. While VMs added
 * for a demand are joining (and for `joinGraceMs` after), that demand adds no other VM, and those
 * VMs do not count as idle.
 */
export class FleetFollowsQueue {
  private readonly loop = new PeriodicPass('fleet for the job queue', () => this.pass());
  /** When each VM was first seen with no tier and no job. */
  private readonly idleSince = new Map<string, number>();
  /** Jobs the fleet grew for: until when their demand adds no VM (Infinity while the VMs join). */
  private readonly grownFor = new Map<string, number>();
  /**
   * VMs added for jobs: not idle before then (or before a job or a tier has used them), so their
   * jobs have time to start (cluster-autoscaler's scale-down delay after add).
   */
  private readonly addedUntil = new Map<string, number>();
  private readonly now: () => number;
  private toldAtLimit?: string;

  constructor(
    private readonly knowledge: Knowledge,
    private readonly services: Pick<Services, 'jobs'>,
    private readonly executions: ExecutionQueue,
    private readonly options: FleetOptions = {},
  ) {
    this.now = options.now ?? Date.now;
  }

  /** (Re)starts for the topology in force; does nothing on a static cloud. */
  start(): void {
    this.stop();
    this.idleSince.clear();
    this.grownFor.clear();
    this.addedUntil.clear();
    this.loop.start(this.knowledge.deployment?.cloud.isElastic ? this.options.intervalMs ?? 5000 : 0);
  }

  stop(): void {
    this.loop.stop();
  }

  settled(): Promise<void> {
    return this.loop.settled();
  }

  /** One look: grow for the queue, then release what stayed idle long enough. The finished executions, if any. */
  async pass(): Promise<Execution[]> {
    const deployment = this.knowledge.deployment;
    if (!deployment?.cloud.isElastic) return [];
    const finished: Execution[] = [];
    const grown = await this.grow();
    if (grown) finished.push(grown);
    const released = await this.shrink();
    if (released) finished.push(released);
    return finished;
  }

  private async grow(): Promise<Execution | undefined> {
    const { topology, cloud, cluster } = this.knowledge.requireDeployment();
    const now = this.now();
    for (const [job, until] of this.grownFor) if (until <= now) this.grownFor.delete(job);
    const waiting = (this.services.jobs ?? NO_JOBS).unplacedDemand().filter((d) => !this.grownFor.has(d.job));
    if (waiting.length === 0) return undefined;
    const vmSize = topology.infrastructure.vmSize;
    const bins = firstFit(waiting, vmSize);
    if (bins.length === 0) return undefined;
    const room = roomFor(Object.keys(cluster).length, topology.infrastructure.maxVms, await cloud.maxVms());
    const added = bins.slice(0, Math.max(0, room));
    if (added.length === 0) {
      const names = waiting.map((d) => d.job).join(', ');
      // Said once for the same jobs, not at every look.
      if (names !== this.toldAtLimit) log.warn(`queued jobs fit on no node, and the fleet is at its limit of VMs: ${names}`);
      this.toldAtLimit = names;
      return undefined;
    }
    const jobs = added.flat();
    for (const d of jobs) this.grownFor.set(d.job, Infinity);
    const notes = [`for queued jobs that fit on no node: ${jobs.map((d) => `job ${d.job} (${d.cores} core${d.cores === 1 ? '' : 's'}, ${d.memUnits} unit${d.memUnits === 1 ? '' : 's'})`).join(', ')}`];
    let finished: Execution | undefined;
    try {
      const { done } = await this.executions.submit({ kind: 'scale', prepare: async (snapshot) => growDecision(snapshot, added.length), about: { notes } });
      finished = await done;
      return finished;
    } finally {
      const until = this.now() + (this.options.joinGraceMs ?? 60_000);
      for (const d of jobs) this.grownFor.set(d.job, until);
      for (const step of finished?.steps.flat() ?? []) if (step.status === 'succeeded' && step.vm) this.addedUntil.set(step.vm, until);
    }
  }

  private async shrink(): Promise<Execution | undefined> {
    const { topology, cluster } = this.knowledge.requireDeployment();
    const now = this.now();
    const held = new Set((this.services.jobs ?? NO_JOBS).holdings().map((h) => h.vm));
    const unreachable = new Set(this.knowledge.nodes.unreachable());
    for (const vm of this.idleSince.keys()) if (!cluster[vm]) this.idleSince.delete(vm);
    for (const [vm, until] of this.addedUntil) if (until <= now || !cluster[vm]) this.addedUntil.delete(vm);
    for (const [vm, state] of Object.entries(cluster)) {
      const busy = Object.keys(state.containers).length > 0 || held.has(vm);
      // Once a job or a tier has used a VM added for jobs, it is idle like any other when they are gone.
      if (busy) this.addedUntil.delete(vm);
      const idle = !busy && !unreachable.has(vm) && !this.addedUntil.has(vm);
      if (!idle) this.idleSince.delete(vm);
      else if (!this.idleSince.has(vm)) this.idleSince.set(vm, now);
    }
    const idleMs = topology.infrastructure.scaleInIdleMs ?? DEFAULT_SCALE_IN_IDLE_MS;
    const due = [...this.idleSince].filter(([, since]) => now - since >= idleMs).map(([vm]) => vm).sort();
    if (due.length === 0) return undefined;
    // Counted again from now whatever comes of it: a refused release is not retried at every look.
    for (const vm of due) this.idleSince.set(vm, now);
    const notes = [`idle (no tier, no job) for ${idleMs / 1000} s or more (scale_in_idle_s): ${due.join(', ')}`];
    const { done } = await this.executions.submit({ kind: 'scale', prepare: async (snapshot) => shrinkDecision(snapshot, due), about: { notes } });
    return done;
  }
}

/** How many VMs may be added: below `max_vms` and the cloud's own limit. */
function roomFor(existing: number, maxVms: number | undefined, cloudLimit: number | undefined): number {
  const limits = [maxVms, cloudLimit].filter((n): n is number => n !== undefined);
  return limits.length === 0 ? Infinity : Math.min(...limits) - existing;
}

/** New VMs, as many as still fit under the limits on this turn. */
function growDecision(snapshot: Snapshot, count: number): Decision {
  const { topology, cluster } = snapshot;
  const n = Math.max(0, Math.min(count, roomFor(Object.keys(cluster).length, topology.infrastructure.maxVms, snapshot.cloud.maxVms)));
  const names = Array.from({ length: n }, (_, i) => `new-${i + 1}`);
  const creates: Action[] = names.map((vm) => ({ type: 'create_vm', vm, capacity: { ...topology.infrastructure.vmSize } }));
  const target: Placement = { ...placementOfCluster(cluster), ...Object.fromEntries(names.map((vm) => [vm, {}])) };
  return decisionOf(snapshot, target, creates);
}

/** The VMs to release that are still idle on this turn: no tier container, no job. */
function shrinkDecision(snapshot: Snapshot, vms: string[]): Decision {
  const held = new Set((snapshot.jobs ?? []).map((h) => h.vm));
  const idle = vms.filter((vm) => snapshot.cluster[vm] && Object.keys(snapshot.cluster[vm].containers).length === 0 && !held.has(vm));
  return decisionOf(snapshot, placementOfCluster(snapshot.cluster), idle.map((vm): Action => ({ type: 'delete_vm', vm })));
}

function decisionOf(snapshot: Snapshot, target: Placement, actions: Action[]): Decision {
  const steps = actions.length > 0 ? [actions] : [];
  return {
    target, before: placementOfCluster(snapshot.cluster),
    translation: { steps, actions: steps.map((layer) => layer.map(describeAction)) }, timingsMs: { translate: 0 },
  };
}


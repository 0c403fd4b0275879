import { AllocationProblem, AllocationResult, Allocator, minimumNewVms } from '../../allocator';
import { Placement, tierTotals } from '../../domain/allocation';
import { allocationOf, Cluster, placementOfCluster } from '../../domain/cluster';
import { NoSolutionError, ValidationError } from '../../domain/errors';
import { mergePlan, PartialPlan } from '../../domain/plan';
import { describeVolumeKeep, formatSelector, limitProblem, NO_NODE_LIMITS, NodeLimits, selectorConstraints, volumeKeep } from '../nodes/node-limits';
import { Topology } from '../../domain/topology';
import { Drift } from '../../domain/drift';
import { nodeLocalVolumes } from '../../domain/volumes';
import { translate, Translation } from '../../translator/translate';
import { ContainerRuntimeFactory } from '../../ports/container-runtime';
import { Deployment } from '../cluster/knowledge';
import { JobHolding, JobView } from '../jobs/job-holdings';
import { capacityOf, checkTargetRoom, heldByJobsError, heldByVm, HeldOnVm, occupiedCores, offerWithoutHeld } from '../jobs/held-by-jobs';

/** Most VMs one plan may add. */
export const MAX_NEW_VMS_PER_PLAN = 1000;

/** What a decision is taken over: read first, so the decision itself asks nothing of anyone. */
export interface Snapshot {
  topology: Topology;
  /** A copy of what runs where: a decision never changes what the daemon knows. */
  cluster: Cluster;
  cloud: {
    kind: string;
    isElastic: boolean;
    /** The cloud's own limit on VMs (an Auto Scaling group's maximum size), if any. */
    maxVms?: number;
  };
  /** VMs whose container runtime does not pin cores (none with Docker). */
  unpinned?: ReadonlySet<string>;
  /** What running jobs hold, by VM: tiers are never given it (use-cases/jobs/held-by-jobs.ts). */
  jobs?: readonly JobHolding[];
}

export interface Decision {
  /** Absent when the decision was a given placement rather than a solved plan. */
  problem?: AllocationProblem;
  result?: AllocationResult;
  /** The placement to reach (placeholder names for new VMs). */
  target: Placement;
  translation: Translation;
  before: Placement;
  timingsMs: { solve?: number; translate: number };
  /** For a drift repair: what it found. */
  drift?: Drift[];
}

export type SolvedDecision = Decision & { problem: AllocationProblem; result: AllocationResult };

/** Further terms of the allocation problem (e.g. where tiers may run), set by the daemon's own executions. */
export type ProblemConstraints = Omit<Partial<AllocationProblem>, 'plan' | 'current' | 'vmSize'>;

/**
 * Reads the topology, the cluster and the cloud's limit: the only I/O before a decision. With
 * `runtimeFor`, which VMs' runtimes do not pin cores; with `jobs`, what running jobs hold.
 */
export async function takeSnapshot(deployment: Readonly<Deployment>, runtimeFor?: ContainerRuntimeFactory, jobs?: JobView): Promise<Snapshot> {
  const { topology, cloud, cluster } = deployment;
  const unpinned = runtimeFor ? new Set(Object.values(cluster).filter((s) => !runtimeFor(s.vm).pinsCores).map((s) => s.vm.name)) : undefined;
  const holdings = jobs?.holdings().filter((h) => cluster[h.vm]) ?? [];
  return {
    topology,
    cluster: structuredClone(cluster),
    cloud: { kind: cloud.kind, isElastic: cloud.isElastic, maxVms: await cloud.maxVms() },
    ...(unpinned && unpinned.size > 0 ? { unpinned } : {}),
    ...(holdings.length > 0 ? { jobs: structuredClone(holdings) } : {}),
  };
}

function heldOf(snapshot: Snapshot): Map<string, HeldOnVm> {
  return heldByVm(snapshot.jobs ?? [], snapshot.topology.infrastructure.memUnitMb);
}

/** What the translator keeps away from tiers: the jobs' pinned cores, and the VMs jobs run on. */
function jobsForTranslation(snapshot: Snapshot, held: ReadonlyMap<string, HeldOnVm>) {
  return held.size === 0 ? {} : { occupiedCores: occupiedCores(held, pinsCoresOf(snapshot)), heldVms: new Set(held.keys()) };
}

function pinsCoresOf(snapshot: Snapshot): (vm: string) => boolean {
  return (vm) => !snapshot.unpinned?.has(vm);
}

/**
 * The pure part of applying a plan, shared by preview and execute so a preview shows exactly what
 * an execution would do: merge the plan over the current totals, allocate, translate. It reads only
 * the snapshot and asks only the allocator.
 */
export async function decide(
  snapshot: Snapshot, allocator: Allocator, plan: PartialPlan, constraints: ProblemConstraints = {}, nodes: NodeLimits = NO_NODE_LIMITS,
): Promise<SolvedDecision> {
  const { topology, cluster } = snapshot;
  const { infrastructure } = topology;
  for (const tier of Object.keys(plan)) {
    // A queued plan meets the topology in force when its turn comes, which may not be the one it was checked against.
    if (!topology.tiers.has(tier)) throw new ValidationError(tier, `tier '${tier}' is not in the topology in force`);
  }
  const before = placementOfCluster(cluster);
  const cloudLimit = snapshot.cloud.maxVms;
  const limits = [infrastructure.maxVms, cloudLimit].filter((n): n is number => n !== undefined);
  const unlimited: AllocationProblem = {
    vmSize: infrastructure.vmSize,
    maxVms: limits.length > 0 ? Math.min(...limits) : undefined,
    current: allocationOf(cluster),
    plan: mergePlan(plan, tierTotals(before)),
    notScalable: [...topology.tiers.values()].filter((t) => t.maxNode === 1).map((t) => t.flatName),
    maxNode: Object.fromEntries([...topology.tiers.values()].filter((t) => t.maxNode !== undefined && t.maxNode > 1).map((t) => [t.flatName, t.maxNode!])),
    ...constraints,
  };
  // Unreachable, cordoned and draining nodes (see use-cases/nodes/node-limits.ts).
  const limited = limitProblem(unlimited, cluster, nodes);
  const placeable = limited.cluster;
  const selectors = new Map([...topology.tiers.values()].filter((t) => t.nodeSelector).map((t) => [t.flatName, t.nodeSelector!]));
  // Containers with node-local volumes stay where their data is (domain/volumes.ts).
  const local = nodeLocalVolumes(topology.tiers.values(), infrastructure.volumes ?? {});
  const problem = volumeKeep(selectorConstraints(limited.problem, cluster, selectors), local);
  // Running jobs are never preempted: the tiers are offered what the jobs leave (use-cases/jobs/held-by-jobs.ts).
  const held = heldOf(snapshot);
  const offered = offerWithoutHeld(problem, held);

  // A runaway plan (a typo of a few zeros) would have the solver model tens of thousands of VMs.
  const newVmsNeeded = minimumNewVms(problem);
  if (newVmsNeeded > MAX_NEW_VMS_PER_PLAN) {
    throw new NoSolutionError(`the plan needs at least ${newVmsNeeded} new VMs; one plan may add at most ${MAX_NEW_VMS_PER_PLAN}`);
  }

  const solveStarted = Date.now();
  const solveOffered = async () => {
    const found = await allocator.allocate(offered);
    // The allocator counts an existing VM only when tiers stay on it; one that jobs run on is in use all the same.
    if (problem.maxVms !== undefined && vmsInUse(found.placement, held, problem) > problem.maxVms) {
      throw new NoSolutionError(`the plan needs more VMs than ${problem.maxVms} beside those running jobs`);
    }
    return found;
  };
  const result = await solveOffered().catch(async (e) => {
    if (e instanceof NoSolutionError && offered !== problem) {
      // Met with what the jobs hold, not without: the plan waits for them (job_yield_s) or fails naming them.
      const unheld = await allocator.allocate(problem).catch(() => undefined);
      if (unheld) throw heldByJobsError(unheld.placement, capacityOf(cluster), held);
    }
    if (e instanceof NoSolutionError && cloudLimit !== undefined && problem.maxVms === cloudLimit && !problem.placeable) {
      throw await explainPoolLimit(allocator, problem, cloudLimit, snapshot.cloud.kind, e);
    }
    if (!(e instanceof NoSolutionError)) throw e;
    // Say what limited the placement: node selectors, containers kept for their node-local volumes.
    const selected = [...selectors].filter(([tier, selector]) => problem.placeable?.[tier] && Object.keys(selector).length > 0);
    const limits = [
      ...(selected.length > 0 ? [`placement limited by node_selector: ${selected.map(([tier, selector]) => `tier '${tier}' ${formatSelector(selector)}`).join(', ')}`] : []),
      ...[describeVolumeKeep(problem, local)].filter((k): k is string => k !== undefined),
    ];
    if (limits.length > 0) {
      const detail = e.message.replace(/^No solution found:?\s*/, '');
      throw new NoSolutionError(`${detail ? `${detail}; ` : ''}${limits.join('; ')}`);
    }
    throw e;
  });
  const solveMs = Date.now() - solveStarted;

  const translateStarted = Date.now();
  const translation = translate({
    topology, current: placeable, target: result.placement, newVms: result.newVms,
    vmSize: infrastructure.vmSize, releaseIdleVms: snapshot.cloud.isElastic, pinsCores: pinsCoresOf(snapshot),
    ...jobsForTranslation(snapshot, held),
  });
  return { problem: offered, result, target: result.placement, translation, before, timingsMs: { solve: solveMs, translate: Date.now() - translateStarted } };
}

/**
 * The way from what runs now to a given placement, without solving: for the daemon's own executions
 * (drift repair, drain, heal, rollback), which know where containers should be. VMs of the placement
 * that the cluster lacks are new, in the order the placement names them.
 */
export function decideTarget(snapshot: Snapshot, target: Placement): Decision {
  const { topology, cluster } = snapshot;
  for (const tiers of Object.values(target)) {
    for (const tier of Object.keys(tiers)) {
      if (!topology.tiers.has(tier)) throw new ValidationError(tier, `tier '${tier}' is not in the topology in force`);
    }
  }
  const started = Date.now();
  // A given placement is checked, not solved: a VM whose tiers would need what its jobs hold is refused.
  const held = heldOf(snapshot);
  checkTargetRoom(target, cluster, held);
  const translation = translate({
    topology, current: cluster, target, newVms: Object.keys(target).filter((vm) => !cluster[vm]),
    vmSize: topology.infrastructure.vmSize, releaseIdleVms: snapshot.cloud.isElastic, pinsCores: pinsCoresOf(snapshot),
    ...jobsForTranslation(snapshot, held),
  });
  return { target, translation, before: placementOfCluster(cluster), timingsMs: { translate: Date.now() - started } };
}

/** VMs in use after a placement: those with tiers and those running jobs. */
function vmsInUse(placement: Placement, held: ReadonlyMap<string, HeldOnVm>, problem: AllocationProblem): number {
  return new Set([...Object.keys(placement), ...[...held.keys()].filter((vm) => vm in problem.current)]).size;
}

/** When only the cloud's own limit stands in the way, say so instead of a bare "No solution found". */
async function explainPoolLimit(allocator: Allocator, problem: AllocationProblem, limit: number, kind: string, original: NoSolutionError): Promise<NoSolutionError> {
  try {
    const unbounded = await allocator.allocate({ ...problem, maxVms: undefined });
    const needed = Object.keys(unbounded.placement).length;
    return new NoSolutionError(`the plan needs ${needed} VMs but the ${kind} cloud allows ${limit}`);
  } catch {
    return original;
  }
}

import { AllocationProblem } from '../../allocator';
import { Allocation, TierResources } from '../../domain/allocation';
import { Cluster } from '../../domain/cluster';
import { NoSolutionError } from '../../domain/errors';
import { NO_NODE_LIMITS, NodeLimits } from '../../domain/node-pool';
import { matchesSelector } from '../../domain/node-settings';
import { addResources, isZero, Resources, ZERO } from '../../domain/resources';

export { NO_NODE_LIMITS };
export type { NodeLimits };

/** Node pool limits added for one plan or preview (a drain: its node cordoned and draining). */
export type NodeLimitsRequest = Partial<Record<keyof NodeLimits, string[]>>;


export interface LimitedProblem {
  problem: AllocationProblem;
  /** The cluster the translation works from: unreachable VMs are left out, so no action touches them. */
  cluster: Cluster;
}

/**
 * Shapes an allocation problem to the node pool:
 * - an unreachable VM is left out, and what its containers hold is taken off the plan of their
 *   tiers (and off their `max_node`): the other nodes carry the rest, nothing is placed twice;
 * - a cordoned VM keeps its containers but its capacity is what they use now (the allocator sees
 *   it as full); an empty cordoned VM is left out;
 * - a draining VM is left out while its containers stay in the plan, so they are placed elsewhere
 *   and the translation deletes them from it.
 * VMs left out also lower `maxVms`, since they still exist. Throws NoSolutionError when the plan
 * can't be met without the unreachable nodes (a `max_node: 1` tier that runs on one of them, or
 * less left for the others than a container needs).
 */
export function limitProblem(problem: AllocationProblem, cluster: Cluster, limits: NodeLimits): LimitedProblem {
  const isLimited = (vm: string) => limits.unreachable.has(vm) || limits.cordoned.has(vm) || limits.draining.has(vm);
  if (!Object.keys(problem.current).some(isLimited)) return { problem, cluster };

  const current: Allocation = {};
  const plan: TierResources = Object.fromEntries(Object.entries(problem.plan).map(([t, r]) => [t, { ...r }]));
  const maxNode = { ...problem.maxNode };
  const notScalable = new Set(problem.notScalable);
  const translateCluster: Cluster = {};
  let leftOut = 0;
  const elsewhere: string[] = [];
  const pinned = new Map<string, string>();

  for (const [vm, allocation] of Object.entries(problem.current)) {
    if (limits.unreachable.has(vm)) {
      leftOut++;
      for (const [tier, used] of Object.entries(allocation.used)) {
        const wanted = plan[tier];
        if (!wanted) {
          elsewhere.push(`tier '${tier}' can't be removed while it runs on unreachable node '${vm}'`);
          continue;
        }
        wanted.cpu_cores -= used.cpu_cores;
        wanted.mem_units -= used.mem_units;
        if (notScalable.has(tier)) pinned.set(tier, vm);
        else if (maxNode[tier] !== undefined) maxNode[tier] -= 1;
      }
      continue;
    }
    if (cluster[vm]) translateCluster[vm] = cluster[vm];
    if (limits.draining.has(vm)) {
      leftOut++;
      continue;
    }
    if (limits.cordoned.has(vm)) {
      const tiers = Object.values(allocation.used);
      if (tiers.length === 0) {
        leftOut++;
        continue;
      }
      current[vm] = { ...tiers.reduce<Resources>(addResources, ZERO), used: { ...allocation.used } };
      continue;
    }
    current[vm] = allocation;
  }
  for (const vm of Object.keys(cluster)) if (!(vm in problem.current) && !limits.unreachable.has(vm)) translateCluster[vm] = cluster[vm];

  for (const [tier, r] of Object.entries(plan)) {
    if (isZero(r)) {
      delete plan[tier];
    } else if (pinned.has(tier)) {
      elsewhere.push(`tier '${tier}' (max_node: 1) runs on unreachable node '${pinned.get(tier)}': it can change when the node answers again`);
    } else if (r.cpu_cores < 0 || r.mem_units < 0 || (r.cpu_cores === 0) !== (r.mem_units === 0)) {
      elsewhere.push(`tier '${tier}': what runs on unreachable nodes leaves ${Math.max(0, r.cpu_cores)} core(s) and ${Math.max(0, r.mem_units)} unit(s) for the others`);
    } else if (maxNode[tier] !== undefined && maxNode[tier] < 1) {
      elsewhere.push(`tier '${tier}' has all its max_node containers on unreachable nodes`);
    }
  }
  if (elsewhere.length > 0) throw new NoSolutionError(elsewhere.join('; '));

  return {
    problem: {
      ...problem,
      current,
      plan,
      maxNode,
      notScalable: [...notScalable],
      maxVms: problem.maxVms === undefined ? undefined : Math.max(0, problem.maxVms - leftOut),
    },
    cluster: translateCluster,
  };
}

/**
 * Tiers' `node_selector` as allocator constraints: a tier with a selector may run only on the VMs
 * of the problem whose labels match every pair, never on new VMs (they carry no labels); its
 * containers elsewhere are moved. A selector no node of the fleet matches is refused at once,
 * naming the tier and the selector.
 */
export function selectorConstraints(problem: AllocationProblem, cluster: Cluster, selectors: ReadonlyMap<string, Readonly<Record<string, string>>>): AllocationProblem {
  const placeable: NonNullable<AllocationProblem['placeable']> = { ...(problem.placeable ?? {}) };
  let any = false;
  for (const [tier, selector] of selectors) {
    if (Object.keys(selector).length === 0) continue;
    const matchingFleet = Object.keys(cluster).filter((vm) => matchesSelector(cluster[vm].vm.labels ?? {}, selector));
    const running = Object.values(problem.current).some((a) => a.used[tier]);
    if (!problem.plan[tier] && !running) continue;
    if (matchingFleet.length === 0) {
      throw new NoSolutionError(`tier '${tier}' has node_selector ${formatSelector(selector)}, which no node matches`);
    }
    const vms = Object.keys(problem.current).filter((vm) => matchesSelector(cluster[vm]?.vm.labels ?? {}, selector));
    const earlier = placeable[tier];
    placeable[tier] = { vms: earlier ? vms.filter((vm) => earlier.vms.includes(vm)) : vms, newVms: false };
    any = true;
  }
  return any ? { ...problem, placeable } : problem;
}

export function formatSelector(selector: Readonly<Record<string, string>>): string {
  return `{${Object.entries(selector).map(([k, v]) => `${k}: ${v}`).join(', ')}}`;
}

/**
 * Node-local data as an allocator constraint: every existing container of a tier that mounts a
 * non-shared volume stays on its VM (it may be resized there) while the tier's plan is non-zero.
 * Only VMs of the problem count (an unreachable or draining VM is not one).
 */
export function volumeKeep(problem: AllocationProblem, local: ReadonlyMap<string, string[]>): AllocationProblem {
  if (local.size === 0) return problem;
  const keep: Record<string, string[]> = Object.fromEntries(Object.entries(problem.keep ?? {}).map(([vm, tiers]) => [vm, [...tiers]]));
  let any = false;
  for (const [vm, allocation] of Object.entries(problem.current)) {
    for (const tier of Object.keys(allocation.used)) {
      const wanted = problem.plan[tier];
      if (!local.has(tier) || !wanted || isZero(wanted)) continue;
      const kept = (keep[vm] ??= []);
      if (!kept.includes(tier)) kept.push(tier);
      any = true;
    }
  }
  return any ? { ...problem, keep } : problem;
}

/** For a 422: which containers the allocator had to leave where they are, and why. */
export function describeVolumeKeep(problem: AllocationProblem, local: ReadonlyMap<string, string[]>): string | undefined {
  const pinned = Object.entries(problem.keep ?? {}).flatMap(([vm, tiers]) => tiers.filter((t) => local.has(t))
    .map((t) => `tier '${t}' on '${vm}' (volume ${local.get(t)!.map((v) => `'${v}'`).join(', ')})`));
  return pinned.length > 0 ? `containers with node-local volumes stay on their node: ${pinned.join(', ')}` : undefined;
}

import { AllocationProblem, AllocationResult, minimumNewVms } from '../allocator';
import { Placement, tierTotals } from '../domain/allocation';
import { allocationOf, placementOfCluster } from '../domain/cluster';
import { NoSolutionError, ValidationError } from '../domain/errors';
import { mergePlan, PartialPlan } from '../domain/plan';
import { translate, Translation } from '../translator/translate';
import { Deployment, Services } from './knowledge';

/** Most VMs one plan may add. */
export const MAX_NEW_VMS_PER_PLAN = 1000;

export interface Decision {
  problem: AllocationProblem;
  result: AllocationResult;
  translation: Translation;
  before: Placement;
  timingsMs: { solve: number; translate: number };
}

/**
 * The pure part of applying a plan, shared by preview and execute so a preview shows exactly what
 * an execution would do: merge the plan over the current totals, allocate, translate.
 */
export async function decide(deployment: Deployment, services: Services, plan: PartialPlan): Promise<Decision> {
  const { topology, cloud, cluster } = deployment;
  const { infrastructure } = topology;
  for (const tier of Object.keys(plan)) {
    // A queued plan meets the topology in force when its turn comes, which may not be the one it was checked against.
    if (!topology.tiers.has(tier)) throw new ValidationError(tier, `tier '${tier}' is not in the topology in force`);
  }
  const before = placementOfCluster(cluster);
  const cloudLimit = await cloud.maxVms();
  const limits = [infrastructure.maxVms, cloudLimit].filter((n): n is number => n !== undefined);
  const problem: AllocationProblem = {
    vmSize: infrastructure.vmSize,
    maxVms: limits.length > 0 ? Math.min(...limits) : undefined,
    current: allocationOf(cluster),
    plan: mergePlan(plan, tierTotals(before)),
    notScalable: [...topology.tiers.values()].filter((t) => t.maxNode === 1).map((t) => t.flatName),
    maxNode: Object.fromEntries([...topology.tiers.values()].filter((t) => t.maxNode !== undefined && t.maxNode > 1).map((t) => [t.flatName, t.maxNode!])),
  };

  // A runaway plan (a typo of a few zeros) would have the solver model tens of thousands of VMs.
  const newVmsNeeded = minimumNewVms(problem);
  if (newVmsNeeded > MAX_NEW_VMS_PER_PLAN) {
    throw new NoSolutionError(`the plan needs at least ${newVmsNeeded} new VMs; one plan may add at most ${MAX_NEW_VMS_PER_PLAN}`);
  }

  const solveStarted = Date.now();
  const result = await services.allocator.allocate(problem).catch(async (e) => {
    if (e instanceof NoSolutionError && cloudLimit !== undefined && problem.maxVms === cloudLimit) {
      throw await explainPoolLimit(services, problem, cloudLimit, cloud.kind, e);
    }
    throw e;
  });
  const solveMs = Date.now() - solveStarted;

  const translateStarted = Date.now();
  const translation = translate({
    topology, current: cluster, target: result.placement, newVms: result.newVms,
    vmSize: infrastructure.vmSize, releaseIdleVms: cloud.isElastic,
  });
  return { problem, result, translation, before, timingsMs: { solve: solveMs, translate: Date.now() - translateStarted } };
}

/** When only the cloud's own limit stands in the way, say so instead of a bare "No solution found". */
async function explainPoolLimit(services: Services, problem: AllocationProblem, limit: number, kind: string, original: NoSolutionError): Promise<NoSolutionError> {
  try {
    const unbounded = await services.allocator.allocate({ ...problem, maxVms: undefined });
    const needed = Object.keys(unbounded.placement).length;
    return new NoSolutionError(`the plan needs ${needed} VMs but the ${kind} cloud allows ${limit}`);
  } catch {
    return original;
  }
}

import { Placement } from '../../domain/allocation';
import { AllocationProblem } from '../allocator';
import { COST } from './cost-weights';

/**
 * The SPEC §3 objective of a placement, computed from the problem as given (not from the solver's
 * model), so that it can check the solver. A VM of the placement that is not a current VM is new.
 * Containers of tiers the plan drops have to go whatever the allocation, so (as in the original,
 * whose model only had variables for planned tiers) they add nothing.
 */
export function placementCost(problem: AllocationProblem, placement: Placement): number {
  const notScalable = new Set(problem.notScalable);
  let cost = 0;
  for (const [vmName, vm] of Object.entries(problem.current)) {
    const hosted = placement[vmName] ?? {};
    cost += Object.keys(hosted).length > 0 ? COST.existingVmUsed : COST.existingVmEmpty;
    for (const tier of Object.keys(vm.used ?? {})) {
      if (!(tier in problem.plan)) continue;
      if (tier in hosted) cost += COST.containerKept;
      else cost += notScalable.has(tier) ? COST.notScalableContainerDeleted : COST.containerDeleted;
    }
    for (const tier of Object.keys(hosted)) {
      if (!(tier in (vm.used ?? {}))) cost += COST.containerCreated;
    }
  }
  for (const [vmName, hosted] of Object.entries(placement)) {
    if (vmName in problem.current || Object.keys(hosted).length === 0) continue;
    cost += COST.newVmUsed + COST.containerCreated * Object.keys(hosted).length;
  }
  return cost;
}

import { Placement } from '../../domain/allocation';
import { AllocationProblem, AllocationResult } from '../allocator';
import { AllocationInstance, Layout } from '../model/allocation-instance';

/**
 * What the last solve leaves for the next. A planner posts a plan every few seconds that differs
 * little from the last, on the same fleet: while the VMs (names and sizes), the tiers and the rules
 * (caps, `max_node: 1`, `max_vms`, placement constraints, the new VMs' size) stay the same, the last
 * answer is carried into the next solve as one more start (its containers kept, resized for the new
 * plan; see `carriedFluidLayout`) and its containers widen the restricted model. The very same
 * problem again, once proven optimal, is answered at once.
 */
export interface PlanMemory {
  remember(problem: AllocationProblem, result: AllocationResult): void;
  /** The last answer on `instance`'s indices, when the last problem had the same shape. */
  carriedLayout(problem: AllocationProblem, instance: AllocationInstance): Layout | undefined;
  /** The last answer, when it was proven optimal for this very problem. */
  provenAnswer(problem: AllocationProblem): AllocationResult | undefined;
}

export function createPlanMemory(): PlanMemory {
  let last: { shape: string; whole: string; result: AllocationResult } | undefined;
  return {
    remember(problem, result) {
      last = { shape: shapeOf(problem), whole: wholeOf(problem), result };
    },
    carriedLayout(problem, instance) {
      if (!last || last.shape !== shapeOf(problem)) return undefined;
      return layoutOfPlacement(instance, last.result.placement);
    },
    provenAnswer(problem) {
      if (!last || !last.result.optimal || last.whole !== wholeOf(problem)) return undefined;
      return structuredClone(last.result);
    },
  };
}

/** Everything but the plan, what runs where and the budget. */
function shapeOf(problem: AllocationProblem): string {
  const sorted = <T>(record: Record<string, T> | undefined) => Object.entries(record ?? {}).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return JSON.stringify([
    problem.vmSize, problem.maxVms ?? null,
    sorted(problem.current).map(([name, vm]) => [name, vm.cpu_cores, vm.mem_units]),
    Object.keys(problem.plan).sort(),
    problem.notScalable.slice().sort(),
    sorted(problem.maxNode),
    sorted(problem.placeable).map(([tier, where]) => [tier, where.vms.slice().sort(), where.newVms]),
    sorted(problem.keep).map(([vm, tiers]) => [vm, tiers.slice().sort()]),
  ]);
}

function wholeOf(problem: AllocationProblem): string {
  const sorted = <T>(record: Record<string, T>) => Object.entries(record).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  const used = sorted(problem.current).map(([name, vm]) => [name, sorted(vm.used ?? {}).map(([tier, r]) => [tier, r.cpu_cores, r.mem_units])]);
  return JSON.stringify([shapeOf(problem), sorted(problem.plan).map(([tier, r]) => [tier, r.cpu_cores, r.mem_units]), used]);
}

/** A placement by names on an instance's indices; containers of VMs or tiers the instance lacks are left out. */
function layoutOfPlacement(instance: AllocationInstance, placement: Placement): Layout {
  const vmIndex = new Map(instance.vms.map((vm, v) => [vm.name, v]));
  const tierIndex = new Map(instance.tiers.map((tier, t) => [tier.name, t]));
  const layout: Layout = instance.vms.map(() => new Map());
  for (const [vm, hosted] of Object.entries(placement)) {
    const v = vmIndex.get(vm);
    if (v === undefined) continue;
    for (const [tier, r] of Object.entries(hosted)) {
      const t = tierIndex.get(tier);
      if (t !== undefined) layout[v].set(t, { cpu_cores: r.cpu_cores, mem_units: r.mem_units });
    }
  }
  return layout;
}

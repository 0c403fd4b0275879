import { AllocationProblem } from '../allocator';
import { AllocationInstance, buildInstance, isValidLayout, Layout, layoutCost } from '../model/allocation-instance';
import { solveInstanceExactly, solveRelaxation } from '../exact/exact-solve';
import { MipSolveOptions } from '../exact/highs-engine';
import { improveByContainerSearch } from '../search/container-search';
import { cheapestLayout, searchStarts } from '../search/search-starts';

/** A layout as it crosses threads: per VM, `[tier, cpu, mem]` triples. */
export type PackedLayout = Array<Array<[number, number, number]>>;

export function packLayout(layout: Layout): PackedLayout {
  return layout.map((hosted) => [...hosted].map(([t, r]) => [t, r.cpu_cores, r.mem_units] as [number, number, number]));
}

export function unpackLayout(packed: PackedLayout): Layout {
  return packed.map((hosted) => new Map(hosted.map(([t, cpu_cores, mem_units]) => [t, { cpu_cores, mem_units }])));
}

/**
 * One stage of the portfolio, run by a helper thread on the problem with `k` new VMs (it builds the
 * same instance as the coordinating thread: indices agree), until `deadlineMs` (Date.now(), shared
 * by the threads).
 *
 * Either kind, with `relax`, first solves the LP relaxation: its optimum is a bound, its support
 * widens the polish's restricted model.
 *
 * - `search`: the container search with its own seed, from the cheapest of `starts`, or from the
 *   helper's own starts when none is given.
 * - `exact`: HiGHS on the whole model, warm-started from `start`: a layout no dearer than it, and
 *   HiGHS' dual bound, valid for the problem. With `pairs`, a model restricted to them (and every
 *   tier on the new VMs), whose dual bound proves nothing, so none is reported; with `seed`, HiGHS'
 *   own random seed (the same model on two threads, two seeds: two chances).
 */
export type HelperTask = { problem: AllocationProblem; k: number; deadlineMs: number; relax?: boolean } & (
  | { kind: 'search'; seed: number; starts: PackedLayout[]; tierKickShare?: number }
  | ({ kind: 'exact'; start?: PackedLayout; pairs?: number[] } & Pick<MipSolveOptions, 'seed' | 'restart'>)
);

export interface HelperAnswer {
  /** A valid layout of the instance with `k` new VMs, and its cost. */
  layout?: PackedLayout;
  cost?: number;
  /** A lower bound proven on the cost of the problem with `k` new VMs (-Infinity: none). */
  bound: number;
  /** A task with `relax`: the pairs the relaxation opens. */
  support?: number[];
}

/**
 * Share of a stage the LP relaxation may take. Beside a searching thread on two cores it needs 54 ms
 * at fleet 20 × 10 and 65–114 ms at scale-out 20 × 20 (36–47 ms alone), where 30 % of the stage
 * (43–96 ms) left it unsolved and the polish without its containers.
 */
const RELAXATION_SHARE = 0.5;

export async function runHelperTask(task: HelperTask): Promise<HelperAnswer> {
  // A task queued behind one that overran: its answer would be dropped, and the next one delayed.
  if (Date.now() >= task.deadlineMs) return { bound: -Infinity };
  const instance = buildInstance(task.problem, task.k);
  const relaxed = task.relax ? await solveRelaxation(instance, { timeLimitMs: (task.deadlineMs - Date.now()) * RELAXATION_SHARE }) : undefined;
  let bound = relaxed?.bound ?? -Infinity;
  const support = relaxed && [...relaxed.support];
  if (task.kind === 'search') {
    const given = task.starts.map(unpackLayout).filter((l) => isValidLayout(instance, l));
    // As in the coordinating thread, no start is begun past a quarter of the time (the first always is).
    const start = cheapestLayout(instance, given.length > 0 ? given : searchStarts(instance, Date.now() + (task.deadlineMs - Date.now()) / 4));
    if (!start) return { bound, support };
    const searched = improveByContainerSearch(instance, start, { deadlineMs: task.deadlineMs, seed: task.seed, tierKickShare: task.tierKickShare, targetCost: bound });
    return { ...answerOf(instance, isValidLayout(instance, searched) ? searched : start, bound), support };
  }
  const start = task.start && unpackLayout(task.start);
  const pairs = task.pairs && new Set(task.pairs);
  const T = instance.tiers.length;
  const outcome = await solveInstanceExactly(instance, {
    timeLimitMs: task.deadlineMs - Date.now(),
    start,
    seed: task.seed,
    restart: task.restart,
    candidate: pairs && ((v, t) => instance.vms[v].isNew || pairs.has(v * T + t)),
  });
  const best = cheapestLayout(instance, [outcome.layout, start].filter((l): l is Layout => l !== undefined && isValidLayout(instance, l)));
  if (!pairs) bound = Math.max(bound, outcome.status === 'optimal' && best ? layoutCost(instance, best) : Math.ceil(outcome.bound - 1e-6));
  return { ...answerOf(instance, best, bound), support };
}

function answerOf(instance: AllocationInstance, layout: Layout | undefined, bound: number): HelperAnswer {
  return layout ? { layout: packLayout(layout), cost: layoutCost(instance, layout), bound } : { bound };
}

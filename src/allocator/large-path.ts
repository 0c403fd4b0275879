import { AllocationProblem, AllocationResult } from './allocator';
import { Settings } from './allocator-options';
import { AllocationInstance, buildInstance, isValidLayout, Layout, layoutCost, layoutToPlacement, minimumNewVms } from './model/allocation-instance';
import { solveInstanceExactly, solveRelaxation } from './exact/exact-solve';
import { isSolverReady } from './exact/highs-engine';
import { lowerBound } from './model/lower-bound';
import { placementCost } from './model/placement-cost';
import { improveByContainerSearch } from './search/container-search';
import { improveByMoves } from './search/local-moves';
import { improveByNeighbourhoods } from './search/neighbourhood-search';
import { cheapestLayout, searchStarts } from './search/search-starts';
import { HelperAnswer, HelperTask, packLayout, unpackLayout } from './portfolio/helper-tasks';
import { LATE_ANSWER_MS, SolverPool } from './portfolio/solver-pool';

/** What a large solve may use beyond the problem: helper threads, and what an earlier solve left. */
export interface LargeContext {
  /** The portfolio's helper threads (none: everything runs here, as on one core). */
  team?: SolverPool;
  /** The answer to an earlier problem of the same fleet and tiers, on this instance's indices: one more start. */
  carried?: Layout;
}

/**
 * Starts, container search and polish on `instance`; undefined when the heuristics find no start
 * (the caller hands the problem to the exact path). With a team, each stage runs on every thread
 * side by side, to the same deadlines as on one: the helpers' answers and bounds are gathered at the
 * end of the search and handed to the polish, which runs beside them in turn (see README.md, "The
 * portfolio"). The polish follows the search at every size: up to `polishPairLimit` pairs with the
 * relaxation and the whole model, above it with the restricted model alone.
 */
export async function solveLarge(
  problem: AllocationProblem,
  instance: AllocationInstance,
  settings: Settings,
  deadlineMs: number,
  context: LargeContext = {},
): Promise<AllocationResult | undefined> {
  const enteredMs = Date.now();
  const pairs = instance.tiers.length * (instance.existingVmCount + minimumNewVms(problem));
  const reach = pairs <= settings.polishPairLimit;
  // The budget grows with the model, a fixed time per (VM, tier) pair: a 10 × 10 fleet gets 80 ms,
  // 100 × 50 the cap. It covers the starts, the container search and the neighbourhood search.
  const searchMs = Math.min(settings.searchTimeLimitMs, Math.max(settings.searchMinimumMs, pairs * settings.searchMsPerPair));
  const team = context.team;
  const searchDeadlineMs = Math.min(deadlineMs, enteredMs + searchMs);
  const k = instance.vms.length - instance.existingVmCount;
  // The helpers' first stage, beside the search here: the container search with other seeds; up to
  // the polish's reach the first helper solves the LP relaxation before it searches (a bound, and
  // containers for the restricted model). Above it the relaxation takes too long to pay.
  const firstStage = team ? helperStage(team, (i) => ({
    kind: 'search', problem, k, deadlineMs: helperDeadline(searchDeadlineMs), seed: settings.seed + i + 1, starts: [], tierKickShare: settings.tierKickShare, relax: i === 0 && reach,
  })) : [];
  // Past a quarter of the search budget no further start is built, the first always is.
  const starts = searchStarts(instance, Math.min(searchDeadlineMs, enteredMs + searchMs / 4), context.carried);
  let layout = cheapestLayout(instance, starts);
  if (!layout) return undefined;
  const bound = lowerBound(instance);
  // The container search takes most of the budget: thousands of moves a second, VMs emptied by
  // re-routing load through the fleet. Exact sub-solves of a few VMs or tiers get the rest.
  const containerDeadlineMs = enteredMs + searchMs * (1 - settings.neighbourhoodShare);
  const searched = improveByContainerSearch(instance, layout, { deadlineMs: Math.min(searchDeadlineMs, containerDeadlineMs), seed: settings.seed, targetCost: bound, tierKickShare: settings.tierKickShare });
  // The search keeps its layouts valid by construction; a layout that is not would be a bug there,
  // and its start is still a valid answer.
  if (isValidLayout(instance, searched)) layout = searched;
  if (layoutCost(instance, layout) > bound && Date.now() < searchDeadlineMs) {
    layout = await improveByNeighbourhoods(instance, layout, {
      deadlineMs: searchDeadlineMs,
      neighbourhoodSize: settings.neighbourhoodSize,
      tiersPerStep: settings.tiersPerStep,
      maxStallSteps: settings.maxStallSteps,
      stepTimeLimitMs: 100,
      seed: settings.seed,
    });
    layout = improveByMoves(instance, layout, searchDeadlineMs);
  }
  // The exchange: the cheapest layout of every thread goes on, with the best bound and the relaxation's support.
  const gathered = layoutCost(instance, layout) > bound ? await gather(instance, firstStage) : { layouts: [], bound: -Infinity, support: undefined };
  // Every thread's answer (this one's too, cheapest or not) and the last plan's widen the restricted model.
  const found = [layout, ...gathered.layouts, ...(context.carried ? [context.carried] : [])];
  layout = cheapestLayout(instance, [layout, ...gathered.layouts])!;
  const known = Math.max(bound, gathered.bound);
  const polishDeadlineMs = Math.min(deadlineMs, Date.now() + settings.polishTimeLimitMs);
  // Only once HiGHS is compiled: a cold solver would spend the polish waiting for it.
  if (layoutCost(instance, layout) > known && Date.now() < polishDeadlineMs && isSolverReady()) {
    // The starts' containers widen the restricted model only where HiGHS still settles it in the polish.
    const others = pairs <= STARTS_IN_POLISH_PAIR_LIMIT ? [...starts, ...found] : found;
    return polish(problem, instance, layout, others, settings, polishDeadlineMs, { whole: reach, team, known, support: gathered.support });
  }
  return resultOf(problem, instance, layout, Math.min(known, layoutCost(instance, layout)));
}

interface PolishOptions {
  whole: boolean;
  team?: SolverPool;
  /** A bound already proven for `instance` (the helpers' relaxation, the combinatorial one). */
  known: number;
  /** The LP relaxation's support, when a helper solved it already. */
  support?: Set<number>;
}

/**
 * The search's answer handed to HiGHS. With `whole` (up to `polishPairLimit` pairs): first the LP
 * relaxation of the whole model (tens of ms there), whose optimum is a bound and whose open
 * containers are where the optimum tends to have its own; then a restricted model: only the
 * containers that ran before, those of the starts (up to STARTS_IN_POLISH_PAIR_LIMIT pairs), of the
 * search's answer and of the relaxation, and every tier on the new VMs. It is a fraction of the
 * whole model, so branch and bound goes deep in little time, and the layouts it finds (keeping
 * containers that ran before rather than moving them)
 * are what the search misses. Then the whole model, warm-started from the best so far, for the rest
 * of the time: it may still find better, and its dual bound lifts the one reported. With a team,
 * the relaxation is the helper's (from the first stage), the first helper solves the whole model
 * for the whole polish without HiGHS' restart (see HELPER_WHOLE_MODEL_RESTART), for its layouts,
 * and other helpers search on from the best layout.
 *
 * Without `whole` (larger fleets, where the relaxation and the whole model take seconds): the
 * restricted model on the containers that ran before and those of every thread's answer (not the
 * starts': they would widen it past what HiGHS settles in the time), and when HiGHS proves its
 * optimum early, the container search again from it until the deadline. With a team, the helpers
 * search on from the best layout meanwhile.
 */
async function polish(
  problem: AllocationProblem,
  instance: AllocationInstance,
  layout: Layout,
  others: Layout[],
  settings: Settings,
  deadlineMs: number,
  options: PolishOptions,
): Promise<AllocationResult> {
  const k = Math.max(minimumNewVms(problem), usedNewVms(instance, layout));
  const narrow = buildInstance(problem, k);
  const T = narrow.tiers.length;
  const chosen = pairsInPlay(narrow, [layout, ...others]);
  let best = narrowLayout(instance, layout, k);
  const cheaper = (found: Layout | undefined) => {
    if (found && isValidLayout(narrow, found) && layoutCost(narrow, found) < layoutCost(narrow, best)) best = found;
  };
  // A bound of the instance with more new VMs holds for the one with fewer.
  let proven = Math.max(lowerBound(narrow), options.known);
  const team = options.team;
  const start = packLayout(best);
  const helpers = team ? helperStage(team, (i) => (i === 0 && options.whole
    ? { kind: 'exact', problem, k, deadlineMs: helperDeadline(deadlineMs), start, restart: HELPER_WHOLE_MODEL_RESTART }
    : { kind: 'search', problem, k, deadlineMs: helperDeadline(deadlineMs), seed: settings.seed + team.size + i + 1, starts: [start], tierKickShare: settings.tierKickShare })) : [];
  // Where the LP relaxation opens containers is where the optimum tends to have them.
  const relaxed = options.support
    ? { support: options.support, bound: -Infinity }
    : options.whole && !team ? await solveRelaxation(narrow, { timeLimitMs: (deadlineMs - Date.now()) * RELAXATION_SHARE }) : undefined;
  if (relaxed) {
    for (const pair of relaxed.support) chosen.add(pair);
    proven = Math.max(proven, relaxed.bound);
  }
  const restrictedShare = options.whole ? settings.restrictedPolishShare : 1;
  const restricted = await solveInstanceExactly(narrow, {
    timeLimitMs: (deadlineMs - Date.now()) * restrictedShare,
    start: best,
    candidate: (v, t) => narrow.vms[v].isNew || chosen.has(v * T + t),
  });
  cheaper(restricted.layout);
  if (!options.whole && restricted.status === 'optimal' && Date.now() < deadlineMs - SEARCH_AGAIN_MIN_MS) {
    const searched = improveByContainerSearch(narrow, best, { deadlineMs, seed: settings.seed + 1, targetCost: proven, tierKickShare: settings.tierKickShare });
    if (isValidLayout(narrow, searched)) cheaper(searched);
  }
  if (options.whole && deadlineMs - Date.now() >= WHOLE_MODEL_MIN_MS) {
    const whole = await solveInstanceExactly(narrow, { timeLimitMs: deadlineMs - Date.now(), start: best });
    cheaper(whole.layout);
    proven = Math.max(proven, whole.status === 'optimal' ? layoutCost(narrow, best) : Math.ceil(whole.bound - 1e-6));
  }
  if (layoutCost(narrow, best) > proven) {
    const gathered = await gather(narrow, helpers);
    for (const found of gathered.layouts) cheaper(found);
    proven = Math.max(proven, gathered.bound);
  }
  return resultOf(problem, narrow, best, Math.min(proven, layoutCost(narrow, best)));
}

/**
 * A helper's deadline for a stage that ends at `stageEndMs`: its answer is awaited until
 * LATE_ANSWER_MS past its deadline, so the wait ends with the stage (and the solve's budget holds
 * as on one thread).
 */
function helperDeadline(stageEndMs: number): number {
  return stageEndMs - LATE_ANSWER_MS;
}

/** Sends helper i the task `taskOf(i)`, every helper at once. */
function helperStage(team: SolverPool, taskOf: (i: number) => HelperTask): Array<Promise<HelperAnswer | undefined>> {
  return Array.from({ length: team.size }, (_, i) => team.run(i, taskOf(i)));
}

/** The helpers' answers, when they come: their valid layouts (checked here), the best bound, the relaxation's support. */
export async function gather(instance: AllocationInstance, stage: Array<Promise<HelperAnswer | undefined>>) {
  const answers = (await Promise.all(stage)).filter((a): a is HelperAnswer => a !== undefined);
  const layouts = answers.flatMap((a) => (a.layout ? [unpackLayout(a.layout)] : [])).filter((l) => isValidLayout(instance, l));
  const support = answers.find((a) => a.support)?.support;
  return { layouts, bound: Math.max(-Infinity, ...answers.map((a) => a.bound)), support: support && new Set(support) };
}

/**
 * The (VM, tier) pairs, as v·T + t, where the tier ran before or one of `layouts` runs it on an
 * existing VM: the containers a restricted model may have (new VMs get every tier anyway). Existing
 * VMs keep their indices whatever the count of new VMs, so layouts of a wider instance serve too.
 */
export function pairsInPlay(instance: AllocationInstance, layouts: Layout[]): Set<number> {
  const T = instance.tiers.length;
  const pairs = new Set<number>();
  for (let v = 0; v < instance.existingVmCount; v++) {
    for (const t of instance.vms[v].prior.keys()) pairs.add(v * T + t);
    for (const hosted of layouts) for (const t of hosted[v].keys()) pairs.add(v * T + t);
  }
  return pairs;
}

/**
 * Up to this many pairs the polish's restricted model also has the containers of the four starts.
 * Above it they widen the model past what HiGHS settles in the polish: measured on two threads over
 * the 25 instances of fleet 10 × 10 and 20 × 10 and scale-out 20 × 10, 20 × 20 and 30 × 15, summed
 * 7381 twice against 7385–7387 with them everywhere (scale-out 20 × 20 seed 5 at 301 and 30 × 15
 * seed 1 at 369, CBC's answers, in every run instead of 303 and 371); without them everywhere too,
 * scale-out 20 × 10 seed 2 ends at 337 instead of its optimum 335, which they hold.
 */
const STARTS_IN_POLISH_PAIR_LIMIT = 300;

/** Most of the polish the LP relaxation may take (it needs 20–60 ms up to 600 pairs). */
const RELAXATION_SHARE = 0.25;

/** Least time left for which the container search resumes after the restricted model above 600 pairs. */
const SEARCH_AGAIN_MIN_MS = 20;

/** Least time left for which the polish still builds and solves the whole model (and the tight repacking its model). */
export const WHOLE_MODEL_MIN_MS = 50;

/**
 * The polish's whole model on the first helper runs without HiGHS' restart. After the root, HiGHS
 * fixes columns by reduced cost and, when it fixes enough, starts branch and bound again on what is
 * left: that is what lifts its dual bound within a few tens of ms (scale-out 20 × 20 seed 4: to the
 * optimum's 292 after 90 ms), but the layouts come later. Without it, from the search's 294, HiGHS
 * finds 292 within 600 ms with four seeds of eight (after 185–484 ms), with it with none (the first
 * after 700 ms). The bound comes from this thread, which runs the whole model with the restart
 * after its restricted one, as on one thread. Measured on two threads, the 25 instances of fleet
 * 10 × 10 and 20 × 10 and scale-out 20 × 10, 20 × 20 and 30 × 15, two runs: summed 7379 and 7377
 * against 7381 and 7383, scale-out 20 × 20 seed 4 at CBC's proven 292 in both instead of 294, 11
 * proven optimal in each; held out (seeds 6–13, 40 instances): 12124 against 12128, 15 proven in
 * each. The helper's whole model without the restart and this thread's restricted model for the
 * whole polish (as before): 12120–12122, but the bound at scale-out 30 × 15 7 lower on average.
 */
const HELPER_WHOLE_MODEL_RESTART = false;

function usedNewVms(instance: AllocationInstance, layout: Layout): number {
  return layout.filter((hosted, v) => hosted.size > 0 && instance.vms[v].isNew).length;
}

/** The same layout on an instance with only `k` new VMs: the used ones move to the front (they are interchangeable). */
function narrowLayout(instance: AllocationInstance, layout: Layout, k: number): Layout {
  const existing = layout.slice(0, instance.existingVmCount);
  const usedNew = layout.slice(instance.existingVmCount).filter((hosted) => hosted.size > 0);
  return [...existing, ...usedNew, ...Array.from({ length: k - usedNew.length }, () => new Map())];
}

export function resultOf(problem: AllocationProblem, instance: AllocationInstance, layout: Layout, bound: number): AllocationResult {
  const { placement, newVms } = layoutToPlacement(instance, layout);
  const cost = placementCost(problem, placement);
  return { placement, newVms, cost, lowerBound: Math.min(bound, cost), optimal: bound >= cost };
}

import { placementOf } from '../domain/allocation';
import { NoSolutionError, ValidationError } from '../domain/errors';
import { sameResources } from '../domain/resources';
import { AllocationProblem, AllocationResult, Allocator } from './allocator';
import {
  allocationTotals, AllocationInstance, buildInstance, currentLayout, emptyLayout, isValidLayout, Layout, layoutCost,
  layoutToPlacement, maximumUsefulNewVms, minimumNewVms,
} from './model/allocation-instance';
import { solveInstanceExactly, solveRelaxation } from './exact/exact-solve';
import { COMPILE_WORTH_MS, isSolverLoading, isSolverReady, loadSolver } from './exact/highs-engine';
import { greedyLayout, packedLayout } from './search/greedy-placement';
import { findConstraintConflict, findUnplaceableTier, lowerBound } from './model/lower-bound';
import { currentFluidLayout, improveByContainerSearch, packedFluidLayout } from './search/container-search';
import { improveByMoves } from './search/local-moves';
import { improveByNeighbourhoods } from './search/neighbourhood-search';
import { placementCost } from './model/placement-cost';
import { verifyPlacement } from './model/verify-placement';

export interface AllocatorOptions {
  /** Hard budget of one allocation, unless the problem sets its own. */
  timeLimitMs?: number;
  /**
   * Problems with at most this many (VM, tier) pairs go to the exact solver from the start; larger
   * ones get the heuristic starts and the container search (see the diagram below).
   */
  exactPairLimit?: number;
  /** Most the search of a large problem may take (starts, container search, neighbourhood search). */
  searchTimeLimitMs?: number;
  /** The search's budget per (VM, tier) pair, between `searchMinimumMs` and `searchTimeLimitMs`. */
  searchMsPerPair?: number;
  searchMinimumMs?: number;
  /**
   * Share of the search budget left to the exact sub-solves of the neighbourhood search (HiGHS on a
   * few VMs or tiers at a time). Off by default: measured on the benchmark's fleets, a quarter of
   * the budget given to it instead of the container search changed no cost by more than 0.1 %.
   */
  neighbourhoodShare?: number;
  /**
   * Problems up to this many pairs get, after the search, the exact solver (`polish`: a restricted
   * model, then the whole one), warm-started, for up to `polishTimeLimitMs` (it ends sooner when it
   * proves optimality), once HiGHS is compiled. Up to 600 pairs (about 20 × 20 and 30 × 15 with
   * their new VMs) by default: measured there, it proves some fleets optimal, finds cheaper layouts
   * on others where the fleet must grow, and lifts the lower bound (HiGHS' dual bound) on most, for
   * 600 ms more at most.
   */
  polishPairLimit?: number;
  polishTimeLimitMs?: number;
  /**
   * Share of the polish given first to the restricted model (see `polish`), once the LP relaxation
   * has run. Measured on ten seeds of the fleets that must grow (20 × 10, 20 × 20, 30 × 15), summed
   * costs: the whole model alone 2907 / 3480 / 4424; half to a restricted model without the
   * relaxation's containers 2905 / 3462 / 4402; 0.85 with them 2903 / 3460 / 4398. The whole model
   * keeps the rest for its dual bound (all to the restricted model: 4396 at 30 × 15, bounds up to 8
   * lower).
   */
  restrictedPolishShare?: number;
  /**
   * Above `polishPairLimit`, the share of the search budget given at its end to the restricted
   * model alone (no relaxation, no whole model: both take seconds there); when HiGHS proves its
   * optimum sooner, the container search goes on from it. Measured on five seeds each of fleet
   * 50 × 25 / 100 × 50 and scale-out 50 × 20 / 100 × 20 / 100 × 50, summed costs: 0 3200 / 6274 /
   * 3468 / 6469 / 7573; 0.25 3184 / 6272 / 3464 / 6467 / 7567; 0.4 and 0.5 cheaper at 50 × 25 but
   * dearer at 100 × 50, where the search needs its time. 0 turns it off.
   */
  largeRestrictedShare?: number;
  /**
   * Most time for `repackTightly`, when the search's answer uses more new VMs than the deficit's K:
   * measured at 100 × 50 (seed 2, 99.7 % of the cores used), HiGHS finds a layout with K in 1.3 s
   * and one cheaper than CBC's 120 s answer in 2.5 s. 0 turns it off.
   */
  tightTimeLimitMs?: number;
  /** VMs re-solved together in one step of the neighbourhood search. */
  neighbourhoodSize?: number;
  /** Tiers re-placed together across the fleet in a tier step of the neighbourhood search. */
  tiersPerStep?: number;
  /** The neighbourhood search stops after this many steps in a row without improvement. */
  maxStallSteps?: number;
  seed?: number;
}

const DEFAULTS = {
  timeLimitMs: 10_000,
  exactPairLimit: 40,
  searchTimeLimitMs: 800,
  searchMsPerPair: 0.8,
  searchMinimumMs: 30,
  neighbourhoodShare: 0,
  neighbourhoodSize: 4,
  tiersPerStep: 3,
  polishPairLimit: 600,
  polishTimeLimitMs: 600,
  restrictedPolishShare: 0.85,
  largeRestrictedShare: 0.25,
  tightTimeLimitMs: 3000,
  maxStallSteps: 30,
  seed: 1,
};

/**
 * The allocator of SPEC §3.
 *
 *   problem ──> unchanged plan? ──yes──> the current placement, as is
 *      │ no
 *      ├─ pairs <= exactPairLimit ──> exact: HiGHS branch and bound, warm-started by the greedy repair,
 *      │                               with K, K+1, … new VMs until one count is feasible
 *      └─ larger ──> four starts (greedy repair, best-fit packing, both with fluid sizes) + local moves
 *                     ──> container search (0.8 ms per pair, at most searchTimeLimitMs)
 *                     ──> optional: neighbourhood search (a few VMs re-solved exactly at a time)
 *                     ──> polish (pairs <= polishPairLimit, 600 ms more): the LP relaxation, a
 *                         restricted model widened by its containers, then the whole model
 *                     ──> or, larger: the last quarter of the search budget to a restricted model
 *
 * Every answer is re-checked by verifyPlacement before it is returned. `timeLimitMs` is the hard
 * budget; the large path stops at its own, shorter budgets and reports the bound it proved.
 */
export function createAllocator(options: AllocatorOptions = {}): Allocator {
  const settings = { ...DEFAULTS, ...options };
  return {
    async allocate(given) {
      checkProblem(given);
      const problem = withoutRemovedTiers(given);
      const result = await allocate(problem, settings);
      const violations = verifyPlacement(problem, result);
      if (violations.length > 0) throw new Error(`allocator produced an invalid placement: ${violations.join('; ')}`);
      return result;
    },
  };
}

async function allocate(problem: AllocationProblem, settings: typeof DEFAULTS): Promise<AllocationResult> {
  const startedMs = Date.now();
  const deadlineMs = startedMs + (problem.timeLimitMs ?? settings.timeLimitMs);

  // A plan that asks for what runs already changes nothing (SPEC §2), even where moving would be cheaper.
  const unchanged = unchangedResult(problem);
  if (unchanged) return unchanged;

  const fewestNew = minimumNewVms(problem);
  const mostNew = maximumUsefulNewVms(problem);
  if (fewestNew > mostNew) throw new NoSolutionError(`the plan needs at least ${fewestNew} new VMs, more than allowed`);
  const widest = buildInstance(problem, mostNew);
  const unplaceable = findConstraintConflict(widest) ?? findUnplaceableTier(widest);
  if (unplaceable) throw new NoSolutionError(unplaceable);

  const pairs = (Object.keys(problem.current).length + fewestNew) * widest.tiers.length;
  if (pairs <= settings.exactPairLimit) return solveExactly(problem, fewestNew, mostNew, deadlineMs);
  // SPEC §3 offers K new VMs, more only where K cannot hold the plan. The heuristics cannot prove
  // that; when they find no layout with K, they get every useful new VM (and the exact model, if
  // even that fails, decides with K, K + 1, …).
  if (mostNew > fewestNew) {
    const answer = await solveLarge(problem, buildInstance(problem, fewestNew), settings, deadlineMs, { orNothing: true });
    if (answer) return answer;
  }
  const wide = (await solveLarge(problem, widest, settings, deadlineMs))!;
  if (wide.newVms.length <= fewestNew) return wide;
  return (await repackTightly(problem, wide, fewestNew, settings, deadlineMs)) ?? wide;
}

/**
 * A fleet packed so tightly once its K new VMs are added (99.7 % of the cores at 100 × 50) that no
 * heuristic start finds a layout with K: the search's answer uses more new VMs than SPEC §3 offers.
 * HiGHS then gets the model with K new VMs, restricted to the containers that ran before, those of
 * the answer on existing VMs, anything on the new VMs, and the tiers the answer put on new VMs
 * anywhere: a fraction of the whole model, for up to `tightTimeLimitMs`. The rarity of such fleets
 * is what lets it take longer than the usual polish: the alternative is asking for VMs not needed.
 * Undefined when it finds nothing cheaper.
 */
async function repackTightly(
  problem: AllocationProblem,
  wide: AllocationResult,
  k: number,
  settings: typeof DEFAULTS,
  deadlineMs: number,
): Promise<AllocationResult | undefined> {
  if (!isSolverReady() || settings.tightTimeLimitMs <= 0 || deadlineMs - Date.now() < WHOLE_MODEL_MIN_MS) return undefined;
  const instance = buildInstance(problem, k);
  const T = instance.tiers.length;
  const tierOf = new Map(instance.tiers.map((tier, t) => [tier.name, t]));
  // The answer on the existing VMs (they have the same indices in every instance), and what it put on new ones.
  const onExisting: Layout = instance.vms.map((vm) =>
    new Map(vm.isNew ? [] : Object.entries(wide.placement[vm.name] ?? {}).map(([tier, r]) => [tierOf.get(tier)!, r])));
  const chosen = pairsInPlay(instance, [onExisting]);
  const spilled = new Set(wide.newVms.flatMap((name) => Object.keys(wide.placement[name]).map((tier) => tierOf.get(tier)!)));
  const outcome = await solveInstanceExactly(instance, {
    timeLimitMs: Math.min(deadlineMs - Date.now(), settings.tightTimeLimitMs),
    candidate: (v, t) => instance.vms[v].isNew || chosen.has(v * T + t) || spilled.has(t),
  });
  if (!outcome.layout || layoutCost(instance, outcome.layout) >= wide.cost) return undefined;
  // K new VMs hold the plan, so the model with K is SPEC §3's, and its bound holds.
  return resultOf(problem, instance, outcome.layout, Math.min(lowerBound(instance), layoutCost(instance, outcome.layout)));
}

/** Least time left for which solveExactly tries one more count of new VMs. */
const NEXT_COUNT_MIN_MS = 50;

/**
 * With K new VMs (the deficit's K first, one more each time the previous count is proven
 * infeasible, as SPEC §3 orders it), branch and bound to proven optimality or the deadline.
 * HiGHS starts compiling at once when the budget is long enough; while it is not ready, the
 * heuristics' best layout is the answer if the deadline comes first.
 */
async function solveExactly(problem: AllocationProblem, fewestNew: number, mostNew: number, deadlineMs: number): Promise<AllocationResult> {
  // Compiling HiGHS takes seconds of CPU that cannot be interrupted (a process does not even exit
  // before it ends): it is started only when the budget leaves room for it to pay off.
  if (deadlineMs - Date.now() >= COMPILE_WORTH_MS) loadSolver().catch(() => undefined);
  const fallback = isSolverReady() ? undefined : heuristicAnswer(problem, fewestNew, mostNew, deadlineMs);
  let unproven = false;
  for (let k = fewestNew; k <= mostNew; k++) {
    // One more count of new VMs builds a whole model again: not started in the last few ms.
    if (Date.now() >= deadlineMs - (k > fewestNew ? NEXT_COUNT_MIN_MS : 0)) {
      unproven = true;
      break;
    }
    const instance = buildInstance(problem, k);
    const greedy = quickLayout(instance);
    const outcome = await solveInstanceExactly(instance, { timeLimitMs: deadlineMs - Date.now(), start: greedy });
    if (outcome.status === 'infeasible') continue;
    const candidates = [outcome.layout, greedy].filter((l): l is Layout => l !== undefined && isValidLayout(instance, l));
    if (candidates.length === 0) {
      // Not proven infeasible with k new VMs: k + 1 may still be tried, but "no solution" is then not a proof.
      unproven = true;
      continue;
    }
    const best = candidates.reduce((a, b) => (layoutCost(instance, b) < layoutCost(instance, a) ? b : a));
    const cost = layoutCost(instance, best);
    if (outcome.status !== 'optimal' && fallback && fallback.cost < cost) return resultOf(problem, fallback.instance, fallback.layout, fallback.bound);
    const proven = outcome.status === 'optimal' ? cost : Math.max(Math.ceil(outcome.bound - 1e-6), lowerBound(instance));
    return resultOf(problem, instance, best, Math.min(proven, cost));
  }
  if (fallback && unproven) return resultOf(problem, fallback.instance, fallback.layout, fallback.bound);
  throw new NoSolutionError(unproven ? 'none found within the time limit' : undefined);
}

/** The greedy repair of the current allocation, else from nothing, else the best-fit packing: a valid layout or none. */
function quickLayout(instance: AllocationInstance): Layout | undefined {
  const valid = (l: Layout | undefined) => (l && isValidLayout(instance, l) ? l : undefined);
  return valid(greedyLayout(instance, currentLayout(instance))) ?? valid(greedyLayout(instance, emptyLayout(instance))) ?? valid(packedLayout(instance));
}

/**
 * The cheapest layout the quick heuristics find for any count of new VMs, with the combinatorial
 * bound (valid for every count): the answer when the exact solver cannot run in time.
 */
function heuristicAnswer(problem: AllocationProblem, fewestNew: number, mostNew: number, deadlineMs: number) {
  let best: { instance: AllocationInstance; layout: Layout; cost: number } | undefined;
  for (let k = fewestNew; k <= mostNew && Date.now() < deadlineMs; k++) {
    const instance = buildInstance(problem, k);
    const layout = quickLayout(instance);
    if (!layout) continue;
    // With no exact solver coming, the search gets the budget; while one compiles, a short look.
    const searchUntil = isSolverLoading() ? Math.min(deadlineMs, Date.now() + 100) : deadlineMs - 10;
    const moved = improveByMoves(instance, layout, searchUntil);
    const searched = improveByContainerSearch(instance, moved, { deadlineMs: searchUntil, seed: 1, targetCost: lowerBound(instance) });
    const improved = isValidLayout(instance, searched) ? searched : moved;
    const cost = layoutCost(instance, improved);
    if (!best || cost < best.cost) best = { instance, layout: improved, cost };
    // A count with an answer: more new VMs only add choices the moves rarely need.
    break;
  }
  return best && { ...best, bound: lowerBound(buildInstance(problem, mostNew)) };
}

/**
 * Starts, container search and polish on `instance`. With `orNothing`, undefined when the
 * heuristics find no start, instead of handing the problem to the exact model.
 */
async function solveLarge(
  problem: AllocationProblem,
  instance: AllocationInstance,
  settings: typeof DEFAULTS,
  deadlineMs: number,
  options: { orNothing?: boolean } = {},
): Promise<AllocationResult | undefined> {
  const enteredMs = Date.now();
  const pairs = instance.tiers.length * (instance.existingVmCount + minimumNewVms(problem));
  // The budget grows with the model, a fixed time per (VM, tier) pair: a 10 × 10 fleet gets 80 ms,
  // 100 × 50 the cap. It covers the starts, the container search and the neighbourhood search.
  const budgetMs = Math.min(settings.searchTimeLimitMs, Math.max(settings.searchMinimumMs, pairs * settings.searchMsPerPair));
  // Above the polish's reach, the restricted model (see `polish`) takes the end of that budget.
  const restrictedMs = pairs > settings.polishPairLimit && isSolverReady() ? budgetMs * settings.largeRestrictedShare : 0;
  const searchMs = budgetMs - restrictedMs;
  const searchDeadlineMs = Math.min(deadlineMs, enteredMs + searchMs);
  // The greedy repair knows nothing of max_vms; a layout over it is no start.
  const valid = (l: Layout | undefined) => (l && isValidLayout(instance, l) ? l : undefined);
  // Starts, each taken to its local optimum by the cheap moves: repairing the current allocation,
  // packing afresh, and both again with fluid sizes (see container-search.ts). The cheapest goes on.
  // Each start is finite and takes milliseconds even at 100 × 50; past a quarter of the search budget
  // no further one is built, the first always is.
  const movesDeadlineMs = Math.min(searchDeadlineMs, enteredMs + searchMs / 4);
  const builders = [
    () => valid(greedyLayout(instance, currentLayout(instance))) ?? valid(greedyLayout(instance, emptyLayout(instance))),
    () => valid(packedLayout(instance)),
    () => valid(currentFluidLayout(instance)),
    () => valid(packedFluidLayout(instance)),
  ];
  const starts: Layout[] = [];
  for (const build of builders) {
    if (starts.length > 0 && Date.now() >= movesDeadlineMs) break;
    const start = build();
    if (start) starts.push(improveByMoves(instance, start, movesDeadlineMs));
  }
  let layout = starts.length > 0 ? starts.reduce((a, b) => (layoutCost(instance, b) < layoutCost(instance, a) ? b : a)) : undefined;
  if (!layout) {
    if (options.orNothing) return undefined;
    // The heuristics got stuck: the exact model decides, within the budget.
    const fewestNew = minimumNewVms(problem);
    return solveExactly(problem, fewestNew, maximumUsefulNewVms(problem), deadlineMs);
  }
  const bound = lowerBound(instance);
  // The container search takes most of the budget: thousands of moves a second, VMs emptied by
  // re-routing load through the fleet. Exact sub-solves of a few VMs or tiers get the rest.
  const containerDeadlineMs = enteredMs + searchMs * (1 - settings.neighbourhoodShare);
  const searched = improveByContainerSearch(instance, layout, { deadlineMs: Math.min(searchDeadlineMs, containerDeadlineMs), seed: settings.seed, targetCost: bound });
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
  const polishDeadlineMs = Math.min(deadlineMs, Date.now() + settings.polishTimeLimitMs);
  // Only once HiGHS is compiled: a cold solver would spend the polish waiting for it.
  if (pairs <= settings.polishPairLimit && layoutCost(instance, layout) > bound && Date.now() < polishDeadlineMs && isSolverReady()) {
    return polish(problem, instance, layout, starts, settings, polishDeadlineMs, { whole: true });
  }
  const restrictedDeadlineMs = Math.min(deadlineMs, enteredMs + budgetMs);
  if (restrictedMs > 0 && layoutCost(instance, layout) > bound && Date.now() < restrictedDeadlineMs) {
    return polish(problem, instance, layout, starts, settings, restrictedDeadlineMs, { whole: false });
  }
  return resultOf(problem, instance, layout, Math.min(bound, layoutCost(instance, layout)));
}

/**
 * The search's answer handed to HiGHS. With `whole` (up to `polishPairLimit` pairs): first the LP
 * relaxation of the whole model (tens of ms there), whose optimum is a bound and whose open
 * containers are where the optimum tends to have its own; then a restricted model: only the
 * containers that ran before, those of the starts, of the search's answer and of the relaxation, and
 * every tier on the new VMs. It is a fraction of the whole model, so branch and bound goes deep in
 * little time, and the layouts it finds (keeping containers that ran before rather than moving them)
 * are what the search misses. Then the whole model, warm-started from the best so far, for the rest
 * of the time: it may still find better, and its dual bound lifts the one reported.
 *
 * Without `whole` (larger fleets, where the relaxation and the whole model take seconds): the
 * restricted model on the containers that ran before and the answer's alone (the starts' would
 * double it for nothing), and when HiGHS proves its optimum early, the container search again from
 * it until the deadline.
 */
async function polish(
  problem: AllocationProblem,
  instance: AllocationInstance,
  layout: Layout,
  starts: Layout[],
  settings: typeof DEFAULTS,
  deadlineMs: number,
  options: { whole: boolean },
): Promise<AllocationResult> {
  const k = Math.max(minimumNewVms(problem), usedNewVms(instance, layout));
  const narrow = buildInstance(problem, k);
  const T = narrow.tiers.length;
  const chosen = pairsInPlay(narrow, options.whole ? [layout, ...starts] : [layout]);
  let best = narrowLayout(instance, layout, k);
  const cheaper = (found: Layout | undefined) => {
    if (found && layoutCost(narrow, found) < layoutCost(narrow, best)) best = found;
  };
  let proven = lowerBound(narrow);
  // Where the LP relaxation opens containers is where the optimum tends to have them.
  const relaxed = options.whole ? await solveRelaxation(narrow, { timeLimitMs: (deadlineMs - Date.now()) * RELAXATION_SHARE }) : undefined;
  if (relaxed) {
    for (const pair of relaxed.support) chosen.add(pair);
    proven = Math.max(proven, relaxed.bound);
  }
  const restricted = await solveInstanceExactly(narrow, {
    timeLimitMs: (deadlineMs - Date.now()) * (options.whole ? settings.restrictedPolishShare : 1),
    start: best,
    candidate: (v, t) => narrow.vms[v].isNew || chosen.has(v * T + t),
  });
  cheaper(restricted.layout);
  if (!options.whole && restricted.status === 'optimal' && Date.now() < deadlineMs - SEARCH_AGAIN_MIN_MS) {
    const searched = improveByContainerSearch(narrow, best, { deadlineMs, seed: settings.seed + 1, targetCost: proven });
    if (isValidLayout(narrow, searched)) cheaper(searched);
  }
  if (options.whole && deadlineMs - Date.now() >= WHOLE_MODEL_MIN_MS) {
    const whole = await solveInstanceExactly(narrow, { timeLimitMs: deadlineMs - Date.now(), start: best });
    cheaper(whole.layout);
    proven = Math.max(proven, whole.status === 'optimal' ? layoutCost(narrow, best) : Math.ceil(whole.bound - 1e-6));
  }
  return resultOf(problem, narrow, best, Math.min(proven, layoutCost(narrow, best)));
}

/**
 * The (VM, tier) pairs, as v·T + t, where the tier ran before or one of `layouts` runs it on an
 * existing VM: the containers a restricted model may have (new VMs get every tier anyway). Existing
 * VMs keep their indices whatever the count of new VMs, so layouts of a wider instance serve too.
 */
function pairsInPlay(instance: AllocationInstance, layouts: Layout[]): Set<number> {
  const T = instance.tiers.length;
  const pairs = new Set<number>();
  for (let v = 0; v < instance.existingVmCount; v++) {
    for (const t of instance.vms[v].prior.keys()) pairs.add(v * T + t);
    for (const hosted of layouts) for (const t of hosted[v].keys()) pairs.add(v * T + t);
  }
  return pairs;
}

/** Most of the polish the LP relaxation may take (it needs 20–60 ms up to 600 pairs). */
const RELAXATION_SHARE = 0.25;

/** Least time left for which the container search resumes after the restricted model above 600 pairs. */
const SEARCH_AGAIN_MIN_MS = 20;

/** Least time left for which the polish still builds and solves the whole model (and the tight repacking its model). */
const WHOLE_MODEL_MIN_MS = 50;

function usedNewVms(instance: AllocationInstance, layout: Layout): number {
  return layout.filter((hosted, v) => hosted.size > 0 && instance.vms[v].isNew).length;
}

/** The same layout on an instance with only `k` new VMs: the used ones move to the front (they are interchangeable). */
function narrowLayout(instance: AllocationInstance, layout: Layout, k: number): Layout {
  const existing = layout.slice(0, instance.existingVmCount);
  const usedNew = layout.slice(instance.existingVmCount).filter((hosted) => hosted.size > 0);
  return [...existing, ...usedNew, ...Array.from({ length: k - usedNew.length }, () => new Map())];
}

function resultOf(problem: AllocationProblem, instance: AllocationInstance, layout: Layout, bound: number): AllocationResult {
  const { placement, newVms } = layoutToPlacement(instance, layout);
  const cost = placementCost(problem, placement);
  return { placement, newVms, cost, lowerBound: Math.min(bound, cost), optimal: bound >= cost };
}

function unchangedResult(problem: AllocationProblem): AllocationResult | undefined {
  const totals = allocationTotals(problem.current);
  const planned = Object.keys(problem.plan);
  if (planned.length !== Object.keys(totals).length) return undefined;
  if (!planned.every((tier) => totals[tier] && sameResources(totals[tier], problem.plan[tier]))) return undefined;
  const placement = placementOf(problem.current);
  const cost = placementCost(problem, placement);
  const result: AllocationResult = { placement, newVms: [], cost, lowerBound: cost, optimal: true };
  // Only when the current allocation itself obeys the rules (capacity, caps, max_vms) is it kept as is.
  return verifyPlacement(problem, result).length === 0 ? result : undefined;
}

/** `{0, 0}` in a plan means the tier goes: the same as leaving it out. */
function withoutRemovedTiers(problem: AllocationProblem): AllocationProblem {
  const plan = Object.fromEntries(Object.entries(problem.plan).filter(([, r]) => r.cpu_cores !== 0 || r.mem_units !== 0));
  return { ...problem, plan };
}

function checkProblem(problem: AllocationProblem): void {
  if (!(problem.vmSize.cpu_cores >= 1) || !(problem.vmSize.mem_units >= 1)) {
    throw new ValidationError('infrastructure', 'a VM needs at least 1 core and 1 memory unit');
  }
  for (const [tier, where] of Object.entries(problem.placeable ?? {})) {
    const unknown = where.vms.find((vm) => !(vm in problem.current));
    if (unknown !== undefined) throw new ValidationError(`placeable.${tier}.vms`, `'${unknown}' is not an existing VM`);
  }
  for (const [vm, tiers] of Object.entries(problem.keep ?? {})) {
    if (!(vm in problem.current)) throw new ValidationError(`keep.${vm}`, `'${vm}' is not an existing VM`);
    const absent = tiers.find((tier) => !problem.current[vm].used?.[tier]);
    if (absent !== undefined) throw new ValidationError(`keep.${vm}`, `'${absent}' has no container on '${vm}' to keep`);
  }
  for (const [tier, r] of Object.entries(problem.plan)) {
    if (r.cpu_cores === 0 && r.mem_units === 0) continue;
    const ok = Number.isInteger(r.cpu_cores) && Number.isInteger(r.mem_units) && r.cpu_cores >= 1 && r.mem_units >= 1;
    if (!ok) throw new ValidationError(`plan.${tier}`, 'cpu_cores and mem_units must be whole numbers, both 0 or both at least 1');
  }
}

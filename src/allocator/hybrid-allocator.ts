import { placementOf } from '../domain/allocation';
import { NoSolutionError, ValidationError } from '../domain/errors';
import { sameResources } from '../domain/resources';
import { AllocationProblem, AllocationResult, Allocator } from './allocator';
import { AllocatorOptions, DEFAULTS, Settings } from './allocator-options';
import {
  allocationTotals, AllocationInstance, buildInstance, currentLayout, emptyLayout, isValidLayout, Layout, layoutCost,
  maximumUsefulNewVms, minimumNewVms,
} from './model/allocation-instance';
import { solveInstanceExactly } from './exact/exact-solve';
import { COMPILE_WORTH_MS, isSolverLoading, isSolverReady, loadSolver } from './exact/highs-engine';
import { greedyLayout, packedLayout } from './search/greedy-placement';
import { findConstraintConflict, findUnplaceableTier, lowerBound } from './model/lower-bound';
import { improveByContainerSearch } from './search/container-search';
import { improveByMoves } from './search/local-moves';
import { placementCost } from './model/placement-cost';
import { verifyPlacement } from './model/verify-placement';
import { gather, pairsInPlay, resultOf, solveLarge, WHOLE_MODEL_MIN_MS } from './large-path';
import { createPlanMemory, PlanMemory } from './portfolio/plan-memory';
import { createSolverPool, LATE_ANSWER_MS, SolverPool } from './portfolio/solver-pool';
import { cheapestLayout } from './search/search-starts';

export type { AllocatorOptions } from './allocator-options';

/** The allocator with the threads it may start: `warmUp` starts them early, `close` stops them. */
export interface PortfolioAllocator extends Allocator {
  /**
   * Compiles HiGHS on this thread and starts the helper threads (with `solverThreads` > 1), each
   * compiling its own; resolves once all are ready. Until then a solve that needs HiGHS waits for it
   * or, like the tight repacking, goes without.
   */
  warmUp(): Promise<void>;
  close(): Promise<void>;
}

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
 *                     ──> polish (600 ms more): up to polishPairLimit pairs the LP relaxation, a
 *                         restricted model widened by its containers, then the whole model;
 *                         larger, the restricted model alone
 *                     (large-path.ts; with solverThreads > 1, helper threads run HiGHS and more searches
 *                     beside each stage, to the same deadlines: see README.md, "The portfolio")
 *
 * Every answer is re-checked by verifyPlacement before it is returned. `timeLimitMs` is the hard
 * budget; the large path stops at its own, shorter budgets and reports the bound it proved.
 */
export function createAllocator(options: AllocatorOptions = {}): PortfolioAllocator {
  const settings = { ...DEFAULTS, ...options };
  const helpers = Math.max(1, Math.floor(settings.solverThreads)) - 1;
  const team = helpers > 0 ? createSolverPool(helpers) : undefined;
  const memory = createPlanMemory();
  return {
    async allocate(given) {
      checkProblem(given);
      const problem = withoutRemovedTiers(given);
      const result = await allocate(problem, settings, { team, memory });
      const violations = verifyPlacement(problem, result);
      if (violations.length > 0) throw new Error(`allocator produced an invalid placement: ${violations.join('; ')}`);
      if (settings.reuseLastPlan) memory.remember(problem, result);
      return result;
    },
    async warmUp() {
      await Promise.all([loadSolver(), team?.warmUp()]);
    },
    async close() {
      await team?.close();
    },
  };
}

async function allocate(problem: AllocationProblem, settings: Settings, with_: { team?: SolverPool; memory: PlanMemory }): Promise<AllocationResult> {
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
  // The same problem again, already proven: nothing is left to search.
  const again = with_.memory.provenAnswer(problem);
  if (again) return again;
  // SPEC §3 offers K new VMs, more only where K cannot hold the plan. The heuristics cannot prove
  // that; when they find no layout with K, they get every useful new VM (and the exact model, if
  // even that fails, decides with K, K + 1, …).
  const context = (instance: AllocationInstance) => ({ team: with_.team, carried: with_.memory.carriedLayout(problem, instance) });
  if (mostNew > fewestNew) {
    const narrowest = buildInstance(problem, fewestNew);
    const answer = await solveLarge(problem, narrowest, settings, deadlineMs, context(narrowest));
    if (answer) return answer;
  }
  const wide = (await solveLarge(problem, widest, settings, deadlineMs, context(widest)))
    // The heuristics got stuck: the exact model decides, within the budget.
    ?? (await solveExactly(problem, fewestNew, mostNew, deadlineMs));
  // No start held K (else the narrowest solve answered): the fleet is packed tightly, and even when
  // the search or a helper's HiGHS then finds a layout with K, the tight repacking is what finds
  // its cheapest ones (scale-out 100 × 50 seed 2: 1765 from the search with K, 1731 repacked).
  if (mostNew <= fewestNew && wide.newVms.length <= fewestNew) return wide;
  return (await repackTightly(problem, wide, fewestNew, settings, deadlineMs, with_.team)) ?? wide;
}

/**
 * A fleet packed so tightly once its K new VMs are added (99.7 % of the cores at 100 × 50) that no
 * heuristic start finds a layout with K: the search's answer uses more new VMs than SPEC §3 offers,
 * or K found late by the search or a helper's HiGHS, far from the cheapest.
 * HiGHS then gets the model with K new VMs, restricted to the containers that ran before, those of
 * the answer on existing VMs, anything on the new VMs, and the tiers the answer put on new VMs
 * anywhere: a fraction of the whole model, for up to `tightTimeLimitMs`. The rarity of such fleets
 * is what lets it take longer than the usual polish: the alternative is asking for VMs not needed.
 * HiGHS does not settle that model in the time, and where it stops depends on its random seed
 * (scale-out 100 × 50 seed 2: 1715–1723 over six seeds from one answer): with a team, the first
 * helper solves the same model with another seed beside this thread, and the cheaper layout wins.
 * Undefined when it finds no layout with K, or (the answer having K already) nothing cheaper.
 */
async function repackTightly(
  problem: AllocationProblem,
  wide: AllocationResult,
  k: number,
  settings: Settings,
  deadlineMs: number,
  team: SolverPool | undefined,
): Promise<AllocationResult | undefined> {
  if (!isSolverReady() || settings.tightTimeLimitMs <= 0 || deadlineMs - Date.now() < WHOLE_MODEL_MIN_MS) return undefined;
  const endMs = Math.min(deadlineMs, Date.now() + settings.tightTimeLimitMs);
  const instance = buildInstance(problem, k);
  const T = instance.tiers.length;
  const tierOf = new Map(instance.tiers.map((tier, t) => [tier.name, t]));
  // The answer on the existing VMs (they have the same indices in every instance), and what it put on new ones.
  const onExisting: Layout = instance.vms.map((vm) =>
    new Map(vm.isNew ? [] : Object.entries(wide.placement[vm.name] ?? {}).map(([tier, r]) => [tierOf.get(tier)!, r])));
  const chosen = pairsInPlay(instance, [onExisting]);
  for (const name of wide.newVms) {
    for (const tier of Object.keys(wide.placement[name])) {
      for (let v = 0; v < instance.existingVmCount; v++) chosen.add(v * T + tierOf.get(tier)!);
    }
  }
  const beside = team?.run(0, { kind: 'exact', problem, k, deadlineMs: endMs - LATE_ANSWER_MS, pairs: [...chosen], seed: TIGHT_HELPER_SEED });
  const outcome = await solveInstanceExactly(instance, {
    timeLimitMs: endMs - Date.now(),
    candidate: (v, t) => instance.vms[v].isNew || chosen.has(v * T + t),
  });
  // The helper's layout is checked in gather; HiGHS' layouts are valid (solveInstanceExactly).
  const helped = await gather(instance, beside ? [beside] : []);
  const best = cheapestLayout(instance, [...(outcome.layout ? [outcome.layout] : []), ...helped.layouts]);
  if (!best) return undefined;
  // SPEC §3 offers K + 1 new VMs only where K holds no allocation: a layout with K replaces an answer
  // with more whatever the two cost (the first layouts with K at 100 × 50 seed 2 cost 1717–1735, the
  // answers with two or three new VMs 1733–1745); an answer with K is replaced only by a cheaper one.
  if (wide.newVms.length <= k && layoutCost(instance, best) >= wide.cost) return undefined;
  // K new VMs hold the plan, so the model with K is SPEC §3's, and its bound holds.
  return resultOf(problem, instance, best, Math.min(lowerBound(instance), layoutCost(instance, best)));
}

/** HiGHS' random seed for the helper's copy of the tight repacking (this thread keeps HiGHS' default). */
const TIGHT_HELPER_SEED = 1;

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

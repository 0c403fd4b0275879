import { TIER_KICK_SHARE } from './search/container-search';

/** The allocator's budgets and knobs, with their defaults and what was measured to choose them. */
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
   * After the search, once HiGHS is compiled, the polish hands its answer to the exact solver,
   * warm-started, for up to `polishTimeLimitMs` (it ends sooner when it proves optimality). Problems
   * up to this many pairs (about 20 × 20 and 30 × 15 with their new VMs) get the LP relaxation, a
   * restricted model, then the whole one: measured there, it proves some fleets optimal, finds
   * cheaper layouts on others where the fleet must grow, and lifts the lower bound (HiGHS' dual bound)
   * on most. Larger ones get the restricted model alone (the relaxation and the whole model take
   * seconds there).
   */
  polishPairLimit?: number;
  /**
   * Most time for the polish. Above `polishPairLimit`, measured on the 25 instances above 600 pairs
   * (five seeds each of fleet 50 × 25 / 100 × 50, scale-out 50 × 20 / 100 × 20 / 100 × 50) with the
   * search's 800 ms before it, summed costs on two threads: the restricted model in the last 40 % of
   * the search budget instead (no polish) 26824 / 26838, a polish of 400 ms 26812, 600 ms 26804 /
   * 26810, 800 ms 26798; on one thread (the last 25 % before) 26856 against 26811 at 600 ms.
   */
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
   * Most time for `repackTightly`, when no start holds the deficit's K new VMs:
   * measured at 100 × 50 (seed 2, 99.7 % of the cores used), HiGHS finds a layout with K in 1.3 s
   * and one cheaper than CBC's 120 s answer in 2.5 s. 0 turns it off.
   */
  tightTimeLimitMs?: number;
  /**
   * Share of the container search's kicks that re-place a whole tier from nothing (see
   * `TIER_KICK_SHARE` in search/container-search.ts for what was measured); 0: none.
   */
  tierKickShare?: number;
  /** VMs re-solved together in one step of the neighbourhood search. */
  neighbourhoodSize?: number;
  /** Tiers re-placed together across the fleet in a tier step of the neighbourhood search. */
  tiersPerStep?: number;
  /** The neighbourhood search stops after this many steps in a row without improvement. */
  maxStallSteps?: number;
  seed?: number;
  /**
   * Threads that solve one large problem side by side within the same budget (the portfolio, see
   * README.md): the calling thread and `solverThreads - 1` helpers. 1 (the default here; the daemon
   * gives the machine's cores): everything runs in the calling thread.
   */
  solverThreads?: number;
  /**
   * Carry the last answer into the next solve while the fleet and the tiers keep their shape (see
   * portfolio/plan-memory.ts). On by default; the benchmarks turn it off to measure each instance alone.
   */
  reuseLastPlan?: boolean;
}

export const DEFAULTS = {
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
  tightTimeLimitMs: 3000,
  maxStallSteps: 30,
  tierKickShare: TIER_KICK_SHARE,
  seed: 1,
  solverThreads: 1,
  reuseLastPlan: true,
};

export type Settings = typeof DEFAULTS;


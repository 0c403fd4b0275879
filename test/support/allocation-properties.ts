import { AllocationProblem, AllocationResult, AllocatorOptions, createAllocator, minimumNewVms, verifyPlacement } from '../../src/allocator';
import { NoSolutionError } from '../../src/domain/errors';
import { generatePropertyProblem, PROPERTY_FAMILIES, PropertyFamily } from './allocation-problems';
import { hasCbc, solveWithCbc } from './cbc';

export interface PropertyOptions {
  /** Instances in all, spread evenly over the families (instance i is family i mod 7, seed i div 7 + 1). */
  instances: number;
  /** The allocator's budget per solve, and how far past it a solve may end (a shared machine's jitter). */
  timeLimitMs: number;
  slackMs: number;
  /** Every `cbcEvery`-th instance small enough for the exact path is also solved by CBC (0: none). */
  cbcEvery: number;
  cbcSeconds?: number;
  size?: { maxVms: number; maxTiers: number };
  allocator?: AllocatorOptions;
  log?: (line: string) => void;
}

export interface PropertyReport {
  checked: number;
  solved: number;
  noSolution: number;
  provenOptimal: number;
  /** Against CBC's proven optimum: compared, equal, ours worse (never better: that would be a bug). */
  cbcCompared: number;
  cbcEqual: number;
  cbcWorse: number;
  slowestMs: number;
  /** Every broken promise, in words, with the family and seed to reproduce it. */
  failures: string[];
}

/** The pairs below which the allocator takes its exact path (its default `exactPairLimit`). */
const EXACT_PAIRS = 40;

/**
 * The allocator's promises checked on seeded random instances: an answer within the budget, every
 * answer valid (verifyPlacement), the bound never above the cost, and on small instances the cost
 * equal to CBC's proven optimum when reported optimal, never below it, and "no solution" exactly
 * when CBC proves none.
 */
export async function checkAllocatorProperties(options: PropertyOptions): Promise<PropertyReport> {
  const allocator = createAllocator({ ...options.allocator, timeLimitMs: options.timeLimitMs });
  const withCbc = options.cbcEvery > 0 && hasCbc();
  const report: PropertyReport = { checked: 0, solved: 0, noSolution: 0, provenOptimal: 0, cbcCompared: 0, cbcEqual: 0, cbcWorse: 0, slowestMs: 0, failures: [] };
  let eligible = 0;
  for (let i = 0; i < options.instances; i++) {
    const family: PropertyFamily = PROPERTY_FAMILIES[i % PROPERTY_FAMILIES.length];
    const seed = Math.floor(i / PROPERTY_FAMILIES.length) + 1;
    const problem = generatePropertyProblem(family, seed, options.size);
    const name = `${family} seed ${seed}`;
    const fail = (what: string) => {
      report.failures.push(`${name}: ${what}`);
      options.log?.(`${name}: ${what}`);
    };
    const started = Date.now();
    let result: AllocationResult | undefined;
    let refusal: NoSolutionError | undefined;
    try {
      result = await allocator.allocate(problem);
    } catch (err) {
      if (!(err instanceof NoSolutionError)) {
        fail(`threw ${err instanceof Error ? err.message : String(err)}`);
        continue;
      }
      refusal = err;
    }
    const ms = Date.now() - started;
    report.checked += 1;
    report.slowestMs = Math.max(report.slowestMs, ms);
    if (ms > options.timeLimitMs + options.slackMs) fail(`took ${ms} ms with a budget of ${options.timeLimitMs} ms`);
    if (result) {
      report.solved += 1;
      if (result.optimal) report.provenOptimal += 1;
      const violations = verifyPlacement(problem, result);
      if (violations.length > 0) fail(`invalid answer: ${violations.join('; ')}`);
    } else report.noSolution += 1;

    if (!withCbc || pairsOf(problem) > EXACT_PAIRS || eligible++ % options.cbcEvery !== 0) continue;
    const cbc = await solveWithCbc(problem, options.cbcSeconds ?? 30);
    if (cbc.status === 'stopped') continue;
    report.cbcCompared += 1;
    const proven = refusal && !/within the time limit/.test(refusal.message);
    if (cbc.status === 'infeasible') {
      if (result) fail(`answered (cost ${result.cost}) where CBC proves no solution exists`);
      else report.cbcEqual += 1;
      continue;
    }
    const optimum = cbc.cost!;
    if (!result) {
      if (proven) fail(`claims no solution exists; CBC finds the optimum ${optimum}`);
      else report.cbcWorse += 1;
      continue;
    }
    if (result.cost < optimum) fail(`cost ${result.cost} below CBC's proven optimum ${optimum}`);
    if (result.lowerBound > optimum) fail(`lower bound ${result.lowerBound} above CBC's proven optimum ${optimum}`);
    if (result.optimal && result.cost !== optimum) fail(`reported optimal at ${result.cost}; CBC's proven optimum is ${optimum}`);
    if (result.cost === optimum) report.cbcEqual += 1;
    else report.cbcWorse += 1;
  }
  return report;
}

function pairsOf(problem: AllocationProblem): number {
  const tiers = Object.values(problem.plan).filter((r) => r.cpu_cores > 0 || r.mem_units > 0).length;
  return (Object.keys(problem.current).length + minimumNewVms(problem)) * tiers;
}

import { createAllocator, warmUpAllocator } from '../src/allocator';
import { AllocationProblem } from '../src/allocator/allocator';
import { verifyPlacement } from '../src/allocator/model/verify-placement';
import { FAMILIES, readSizes } from './solver-bench';

/**
 * Two consecutive similar plans on the same fleet, as a planner posts them: the second is the first
 * with three uncapped tiers moved by a core and two units. How long until the second is answered within
 * 0.5 % of what a solve from nothing finds with the whole budget, with and without the first's answer
 * in hand (`reuseLastPlan`)? Each budget in `BENCH_REUSE_BUDGETS` is a separate solve (the search is
 * bounded by time, so its answer at a budget is what it had found by then); with the memory, each is
 * made by a fresh allocator that has just solved the first plan with the whole budget.
 *
 *   npm run bench:solver-reuse
 *   BENCH_SOLVER_SIZES=fleet:50x25,scale-out:100x20  BENCH_SOLVER_INSTANCES=3  BENCH_SOLVER_THREADS=1
 *   BENCH_REUSE_BUDGETS=25,50,100,200,400,800,1500
 */
export function similarPlan(problem: AllocationProblem): AllocationProblem {
  const movable = Object.keys(problem.plan).filter((tier) => !problem.notScalable.includes(tier) && problem.maxNode[tier] === undefined);
  const plan = { ...problem.plan };
  for (const tier of movable.slice(0, 2)) plan[tier] = { cpu_cores: plan[tier].cpu_cores + 1, mem_units: plan[tier].mem_units + 2 };
  const third = movable[2];
  if (third) plan[third] = { cpu_cores: Math.max(1, plan[third].cpu_cores - 1), mem_units: Math.max(1, plan[third].mem_units - 2) };
  return { ...problem, plan };
}

/** How close to the answer from nothing with the whole budget counts as answered as well. */
const TOLERANCE = 0.005;

async function main(): Promise<void> {
  const env = process.env;
  const sizes = readSizes(env.BENCH_SOLVER_SIZES) ?? [['fleet', 50, 25], ['fleet', 100, 50], ['scale-out', 50, 20], ['scale-out', 100, 20]];
  const instances = Number(env.BENCH_SOLVER_INSTANCES ?? 3);
  const solverThreads = Number(env.BENCH_SOLVER_THREADS ?? 1);
  const budgets = (env.BENCH_REUSE_BUDGETS ?? '25,50,100,200,400,800,1500').split(',').map(Number);
  const full = budgets[budgets.length - 1];
  await warmUpAllocator();
  const lines = [
    '| instance | first plan: cost, time | second plan from nothing: cost at each budget | the same, from the first\'s answer | second plan within 0.5 % of the answer from nothing with the whole budget: from nothing / from the first\'s answer |',
    '|---|---|---|---|---|',
  ];
  const ratios: number[] = [];
  for (const [family, vms, tiers] of sizes) {
    for (let seed = 1; seed <= instances; seed++) {
      const first = FAMILIES[family](vms, tiers, seed);
      const second = similarPlan(first);
      const fresh = createAllocator({ solverThreads, reuseLastPlan: false, timeLimitMs: full });
      await fresh.warmUp();
      const startedMs = Date.now();
      const firstAnswer = await fresh.allocate(first);
      const firstMs = Date.now() - startedMs;
      const cold: number[] = [];
      const warm: number[] = [];
      for (const budget of budgets) {
        const answer = await fresh.allocate({ ...second, timeLimitMs: budget });
        if (verifyPlacement(second, answer).length > 0) throw new Error('invalid placement');
        cold.push(answer.cost);
        const remembering = createAllocator({ solverThreads, timeLimitMs: full });
        await remembering.warmUp();
        await remembering.allocate(first);
        const carried = await remembering.allocate({ ...second, timeLimitMs: budget });
        if (verifyPlacement(second, carried).length > 0) throw new Error('invalid placement');
        warm.push(carried.cost);
        await remembering.close();
      }
      await fresh.close();
      // Within 0.5 % of what a solve from nothing reaches with the whole budget: the search is bounded
      // by time, so a run's last unit or two are chance.
      const target = cold[cold.length - 1] * (1 + TOLERANCE);
      const reached = (costs: number[]) => budgets[costs.findIndex((c) => c <= target)] as number | undefined;
      const coldMs = reached(cold) ?? full;
      const warmMs = reached(warm);
      if (warmMs !== undefined) ratios.push(warmMs / coldMs);
      lines.push(`| ${family} ${vms} × ${tiers} seed ${seed} | ${firstAnswer.cost}, ${firstMs} ms | ${cold.join(' / ')} | ${warm.join(' / ')} | ${coldMs} ms / ${warmMs === undefined ? 'not within the budgets' : `${warmMs} ms`} |`);
      console.error(lines[lines.length - 1]);
    }
  }
  ratios.sort((a, b) => a - b);
  console.log(`Budgets (ms): ${budgets.join(' / ')}; ${solverThreads} solver thread${solverThreads > 1 ? 's' : ''}.\n\n${lines.join('\n')}\n\nMedian ratio of the times (from the first's answer / from nothing), over the ${ratios.length} instances where both got there: ${ratios[Math.floor((ratios.length - 1) / 2)]?.toFixed(2)}`);
}

if (require.main === module) {
  main().catch((err: unknown) => {
    console.error(err);
    process.exit(1);
  });
}

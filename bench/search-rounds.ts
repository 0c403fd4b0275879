import { buildInstance, layoutCost, minimumNewVms } from '../src/allocator/model/allocation-instance';
import { improveByContainerSearch } from '../src/allocator/search/container-search';
import { cheapestLayout, searchStarts } from '../src/allocator/search/search-starts';
import { FAMILIES, readSizes } from './solver-bench';

/**
 * The container search for a fixed number of rounds (a descent and its kicks) instead of a time
 * budget, from the same starts, once per share of tier kicks: what a change to the search is worth
 * when the machine's load cannot decide how much work a budget buys.
 *
 *   BENCH_SEARCH_ROUNDS (300), BENCH_TIER_KICKS (0,0.2), BENCH_SEARCH_SEEDS (1), BENCH_SOLVER_SIZES
 *   (fleet 50 × 25, 100 × 50, scale-out 100 × 50), BENCH_SOLVER_INSTANCES (5)
 */
function main(): void {
  const env = process.env;
  const rounds = Number(env.BENCH_SEARCH_ROUNDS ?? 300);
  const shares = (env.BENCH_TIER_KICKS ?? '0,0.2').split(',').map(Number);
  const searchSeeds = (env.BENCH_SEARCH_SEEDS ?? '1').split(',').map(Number);
  const instances = Number(env.BENCH_SOLVER_INSTANCES ?? 5);
  const sizes = readSizes(env.BENCH_SOLVER_SIZES ?? 'fleet:50x25,fleet:100x50,scale-out:100x50')!;
  const totals = shares.map(() => 0);
  const millis = shares.map(() => 0);
  const lines = [`| instance | ${shares.map((s) => `tier kicks ${s}`).join(' | ')} |`, `|---|${shares.map(() => '---').join('|')}|`];
  for (const [family, vms, tiers] of sizes) {
    for (let seed = 1; seed <= instances; seed++) {
      const problem = FAMILIES[family](vms, tiers, seed);
      const instance = buildInstance(problem, minimumNewVms(problem));
      // Not every fleet has a layout with K new VMs that the starts find (the large path then widens it).
      const start = cheapestLayout(instance, searchStarts(instance, Date.now() + 60_000));
      if (!start) continue;
      const cells = shares.map((tierKickShare, i) => {
        const costs = searchSeeds.map((searchSeed) => {
          const started = Date.now();
          const found = improveByContainerSearch(instance, start, { deadlineMs: Infinity, seed: searchSeed, maxRounds: rounds, tierKickShare });
          millis[i] += Date.now() - started;
          return layoutCost(instance, found);
        });
        totals[i] += costs.reduce((a, b) => a + b, 0);
        return costs.join(' / ');
      });
      lines.push(`| ${family} ${vms} × ${tiers} seed ${seed} | ${cells.join(' | ')} |`);
    }
  }
  lines.push(`| summed | ${totals.join(' | ')} |`, `| wall time | ${millis.map((ms) => `${(ms / 1000).toFixed(1)} s`).join(' | ')} |`);
  console.log(lines.join('\n'));
}

main();

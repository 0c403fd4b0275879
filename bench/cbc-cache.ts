import { existsSync, readFileSync, renameSync, writeFileSync } from 'fs';
import { CbcAnswer, hasCbc, solveWithCbc } from '../test/support/cbc';
import { DEFAULT_SIZES, FAMILIES, cbcCacheKey, readSizes } from './solver-bench';

/**
 * Fills the cache of CBC's answers that `bench:solver` reads (BENCH_CBC_CACHE): every seed of every
 * size, one CBC at a time, smallest instances first, the file rewritten after each answer so that a
 * run stopped half-way leaves a usable cache. Entries already there are kept, never recomputed.
 * BENCH_CBC_CACHE (default bench/data/cbc-120s.json), BENCH_CBC_SECONDS (120), BENCH_CBC_INSTANCES
 * (seeds per size, 5) and BENCH_SOLVER_SIZES choose what; run it under `nice -n 19` beside other work.
 */
async function main(): Promise<void> {
  const env = process.env;
  if (!hasCbc()) throw new Error('cbc is not installed (apt-get install coinor-cbc)');
  const file = env.BENCH_CBC_CACHE ?? 'bench/data/cbc-120s.json';
  const seconds = Number(env.BENCH_CBC_SECONDS ?? 120);
  const seeds = Number(env.BENCH_CBC_INSTANCES ?? 5);
  const sizes = (readSizes(env.BENCH_SOLVER_SIZES) ?? DEFAULT_SIZES).slice().sort((a, b) => a[1] * a[2] - b[1] * b[2]);
  const read = (): Record<string, CbcAnswer> => (existsSync(file) ? JSON.parse(readFileSync(file, 'utf8')) : {});
  for (const [family, vms, tiers] of sizes) {
    for (let seed = 1; seed <= seeds; seed++) {
      const key = cbcCacheKey(family, vms, tiers, seed, seconds);
      if (read()[key]) continue;
      const answer = await solveWithCbc(FAMILIES[family](vms, tiers, seed), seconds);
      // Read again before writing: a benchmark may have added answers meanwhile.
      const cache = { ...read(), [key]: answer };
      writeFileSync(`${file}.tmp`, JSON.stringify(cache, null, 1));
      renameSync(`${file}.tmp`, file);
      console.log(`${new Date().toISOString()} ${key}: ${answer.status} ${answer.cost ?? '-'}, ${answer.cpuSeconds?.toFixed(1)} s CPU, ${answer.seconds.toFixed(1)} s wall`);
    }
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});

import { createAllocator, warmUpAllocator } from '../src/allocator';
import { AllocationResult, Allocator } from '../src/allocator/allocator';
import { verifyPlacement } from '../src/allocator/model/verify-placement';
import { NoSolutionError } from '../src/domain/errors';
import { hasCbc, solveWithCbc } from '../test/support/cbc';
import { existsSync, readFileSync, writeFileSync } from 'fs';
import { availableParallelism } from 'os';
import { AllocationProblem } from '../src/allocator/allocator';
import { AllocatorOptions } from '../src/allocator/allocator-options';
import { generateFleetProblem, generateScaleOutProblem } from '../test/support/allocation-problems';
import { CbcAnswer } from '../test/support/cbc';

/**
 * The two instance families: `fleet`, 80 % load with caps of 2–3, which never needs new VMs; and
 * `scale-out`, demand 0.5–1.1 times the fleet's capacity, often above it in cores or memory.
 */
export const FAMILIES: Record<string, (vms: number, tiers: number, seed: number) => AllocationProblem> = {
  fleet: (vms, tiers, seed) => generateFleetProblem({ vms, tiers, seed }),
  'scale-out': (vms, tiers, seed) => generateScaleOutProblem({ vms, tiers, seed }),
};

export interface SolverBenchOptions {
  /** `[family, vms, tiers]`. */
  sizes?: Array<[string, number, number]>;
  /**
   * A JSON file of CBC's answers, read and extended: CBC's answer depends only on the instance and
   * its time limit, so a run that changes only the allocator need not wait for CBC again.
   */
  cbcCache?: string;
  /** Seeded instances per size. */
  instancesPerSize?: number;
  /** Only these seeds (default: 1 to `instancesPerSize`). */
  seeds?: number[];
  /** CBC's time limit per instance; 0 leaves CBC out. */
  cbcSeconds?: number;
  /** CBC is run on this many instances of each size (it is slow). */
  cbcInstancesPerSize?: number;
  /** Also hold against CBC every further instance whose answer the cache has. */
  cbcCachedToo?: boolean;
  /** The allocator's hard budget per solve. */
  timeLimitMs?: number;
  /**
   * Solver threads (`solverThreads`): one table per count, every instance solved with each in turn,
   * so that the tables compare runs on the same machine under the same load. Default: the machine's cores.
   */
  threads?: number[];
  /**
   * Named option sets, one table each, every instance solved with each in turn, so that a change
   * behind an option is measured before and after in one run, under the same load. A set without
   * `solverThreads` runs on each count of `threads` (the machine's cores by default), as a set of its own.
   */
  variants?: Array<{ label: string; options: AllocatorOptions }>;
  log?: (line: string) => void;
}

export const DEFAULT_SIZES: Array<[string, number, number]> = [
  ['fleet', 5, 5], ['fleet', 10, 10], ['fleet', 20, 10], ['fleet', 50, 25], ['fleet', 100, 50],
  ['scale-out', 20, 10], ['scale-out', 20, 20], ['scale-out', 30, 15], ['scale-out', 50, 20], ['scale-out', 100, 20], ['scale-out', 100, 50],
];

interface Row {
  size: string;
  times: number[];
  /** CPU time of the solving process: on a shared machine, wall time also measures the neighbours. */
  cpuTimes: number[];
  costs: number[];
  bounds: number[];
  optimal: number;
  infeasible: number;
  cbc: Array<{ cost?: number; seconds: number; status: string; ours: number; seed?: number }>;
}

/**
 * Solve time, cost and proven bound of the allocator on seeded fleets of growing size, with CBC
 * (the solver behind the original) on the very same model and instances when it is installed.
 * Returns a markdown table.
 */
export async function runSolverBench(options: SolverBenchOptions = {}): Promise<string> {
  const sizes = options.sizes ?? DEFAULT_SIZES;
  const instances = options.instancesPerSize ?? 5;
  const cbcSeconds = options.cbcSeconds ?? 120;
  const cbcInstances = options.cbcInstancesPerSize ?? 1;
  const withCbc = cbcSeconds > 0 && hasCbc();
  const log = options.log ?? (() => undefined);
  const timeLimitMs = options.timeLimitMs ?? 10_000;
  const threads = options.threads ?? [Math.max(1, availableParallelism())];
  const threadsLabel = (n: number) => `${n} solver thread${n > 1 ? 's' : ''}`;
  const variants = options.variants
    ? options.variants.flatMap((variant) => (variant.options.solverThreads !== undefined ? [variant] : threads.map((solverThreads) => ({
      label: threads.length > 1 ? `${variant.label}, ${threadsLabel(solverThreads)}` : variant.label,
      options: { ...variant.options, solverThreads },
    }))))
    : threads.map((solverThreads) => ({ label: threadsLabel(solverThreads), options: { solverThreads } }));
  const allocators = variants.map((variant) => createAllocator({ timeLimitMs, reuseLastPlan: false, ...variant.options }));

  // Not timed: loading and compiling HiGHS' WebAssembly, once per thread.
  await warmUpAllocator();
  for (const allocator of allocators) await allocator.warmUp();
  const cache: Record<string, CbcAnswer> = options.cbcCache && existsSync(options.cbcCache) ? JSON.parse(readFileSync(options.cbcCache, 'utf8')) : {};

  const tables: Row[][] = variants.map(() => []);
  for (const [family, vms, tiers] of sizes) {
    const rows: Row[] = variants.map(() => ({ size: `${family} ${vms} × ${tiers}`, times: [], cpuTimes: [], costs: [], bounds: [], optimal: 0, infeasible: 0, cbc: [] }));
    for (const seed of options.seeds ?? Array.from({ length: instances }, (_, i) => i + 1)) {
      const problem = FAMILIES[family](vms, tiers, seed);
      // Each variant in turn on the same instance, the order alternating from seed to seed.
      const order = variants.map((_, i) => i);
      if (seed % 2 === 0) order.reverse();
      for (const which of order) {
        const result = await measure(allocators[which], problem, rows[which], `${rows[which].size} seed ${seed} (${variants[which].label})`, log);
        const key = cbcCacheKey(family, vms, tiers, seed, cbcSeconds);
        if (result && withCbc && (seed <= cbcInstances || (options.cbcCachedToo && cache[key]))) {
          const cbc = cache[key] ?? (await solveWithCbc(problem, cbcSeconds));
          if (!cache[key]) {
            log(`${rows[which].size} seed ${seed}: CBC ${cbc.status} ${cbc.cost ?? '-'} in ${cbc.seconds.toFixed(1)} s`);
            cache[key] = cbc;
            // Merged with the file as it is now: `bench:cbc-cache` may be filling it meanwhile.
            if (options.cbcCache) {
              const onDisk = existsSync(options.cbcCache) ? JSON.parse(readFileSync(options.cbcCache, 'utf8')) : {};
              writeFileSync(options.cbcCache, JSON.stringify({ ...onDisk, [key]: cbc }, null, 1));
            }
          }
          rows[which].cbc.push({ ...cbc, ours: result.cost, seed });
        }
      }
    }
    rows.forEach((row, i) => tables[i].push(row));
  }
  await Promise.all(allocators.map((allocator) => allocator.close()));
  return tables.map((rows, i) => `${variants.length > 1 ? `${variants[i].label}:\n\n` : ''}${formatTable(rows, withCbc ? cbcSeconds : 0, timeLimitMs)}`).join('\n\n');
}

/** One solve, timed, its answer checked by the independent checker and counted in `row`. */
async function measure(allocator: Allocator, problem: AllocationProblem, row: Row, name: string, log: (line: string) => void): Promise<AllocationResult | undefined> {
  const started = process.hrtime.bigint();
  const cpuBefore = process.cpuUsage();
  let result: AllocationResult | undefined;
  try {
    result = await allocator.allocate(problem);
  } catch (err) {
    if (!(err instanceof NoSolutionError)) throw err;
  }
  const ms = Number(process.hrtime.bigint() - started) / 1e6;
  const cpu = process.cpuUsage(cpuBefore);
  row.times.push(ms);
  row.cpuTimes.push((cpu.user + cpu.system) / 1000);
  if (!result) {
    row.infeasible += 1;
    log(`${name}: no solution in ${ms.toFixed(1)} ms`);
    return undefined;
  }
  const violations = verifyPlacement(problem, result);
  if (violations.length > 0) throw new Error(`invalid placement at ${name}: ${violations.join('; ')}`);
  row.costs.push(result.cost);
  row.bounds.push(result.lowerBound);
  if (result.optimal) row.optimal += 1;
  log(`${name}: cost ${result.cost}, bound ${result.lowerBound}, ${ms.toFixed(1)} ms, ${row.cpuTimes[row.cpuTimes.length - 1].toFixed(1)} ms CPU`);
  return result;
}

function formatTable(rows: Row[], cbcSeconds: number, timeLimitMs: number): string {
  const header = ['family, VMs × tiers', 'wall time min / median / max', 'CPU time median', 'cost (mean)', 'lower bound (mean)', 'gap (mean)', 'proven optimal'];
  if (cbcSeconds > 0) header.push(`CBC (${cbcSeconds} s limit): cost, time, vs ours`);
  const lines = [`| ${header.join(' | ')} |`, `|${header.map(() => '---').join('|')}|`];
  for (const row of rows) {
    const sorted = row.times.slice().sort((a, b) => a - b);
    const median = sorted[Math.floor((sorted.length - 1) / 2)];
    const mean = (xs: number[]) => (xs.length ? xs.reduce((s, x) => s + x, 0) / xs.length : NaN);
    const gaps = row.costs.map((c, i) => (c - row.bounds[i]) / c);
    const cells = [
      row.size,
      `${fmtMs(sorted[0])} / ${fmtMs(median)} / ${fmtMs(sorted[sorted.length - 1])}`,
      fmtMs(row.cpuTimes.slice().sort((a, b) => a - b)[Math.floor((row.cpuTimes.length - 1) / 2)]),
      mean(row.costs).toFixed(1),
      mean(row.bounds).toFixed(1),
      `${(mean(gaps) * 100).toFixed(1)} %`,
      `${row.optimal} of ${row.times.length}${row.infeasible ? ` (${row.infeasible} infeasible)` : ''}`,
    ];
    if (cbcSeconds > 0) {
      cells.push(row.cbc.map((c) => `${c.seed !== undefined ? `seed ${c.seed}: ` : ''}${c.cost ?? 'none'}${c.status === 'optimal' ? ' (opt)' : ''}, ${c.seconds.toFixed(1)} s, ours ${c.ours}`).join('; ') || '—');
    }
    lines.push(`| ${cells.join(' | ')} |`);
  }
  const held = rows.flatMap((row) => row.cbc.filter((c) => c.cost !== undefined));
  if (cbcSeconds > 0 && held.length > 0) {
    const count = (test: (c: { cost?: number; ours: number }) => boolean) => held.filter(test).length;
    const none = rows.reduce((n, row) => n + row.cbc.filter((c) => c.cost === undefined && c.status === 'stopped').length, 0);
    lines.push('', `Against CBC's ${cbcSeconds} s answer, ${held.length} instances: ${count((c) => c.ours === c.cost)} equal, ${count((c) => c.ours < c.cost!)} cheaper, ${count((c) => c.ours > c.cost!)} dearer${none > 0 ? `; on ${none} more CBC found no layout within its limit` : ''}.`);
  }
  const all = rows.flatMap((row) => row.times).sort((x, y) => x - y);
  const over = all[all.length - 1] - timeLimitMs;
  lines.push('', `Median wall time ${fmtMs(all[Math.floor((all.length - 1) / 2)])}, slowest ${fmtMs(all[all.length - 1])} (${over > 0 ? `${fmtMs(over)} past` : 'within'} the ${fmtMs(timeLimitMs)} budget); ${rows.reduce((n, row) => n + row.optimal, 0)} of ${all.length} proven optimal.`);
  const gaps = rows.flatMap((row) => row.costs.map((c, i) => (c - row.bounds[i]) / c)).sort((a, b) => a - b);
  if (gaps.length > 0) lines.push(`Gap to the bound: median ${(gaps[Math.floor((gaps.length - 1) / 2)] * 100).toFixed(1)} %, largest ${(gaps[gaps.length - 1] * 100).toFixed(1)} %; summed cost ${rows.reduce((n, row) => n + row.costs.reduce((a, b) => a + b, 0), 0)}.`);
  return lines.join('\n');
}

function fmtMs(ms: number): string {
  return ms >= 1000 ? `${(ms / 1000).toFixed(2)} s` : `${ms.toFixed(ms < 10 ? 1 : 0)} ms`;
}

/** The key of an instance's answer in the CBC cache. */
export function cbcCacheKey(family: string, vms: number, tiers: number, seed: number, cbcSeconds: number): string {
  return `${family} ${vms}x${tiers} seed ${seed} ${cbcSeconds}s`;
}

/** `fleet:10x10,scale-out:50x20` (a size without a family is of the fleet family). */
export function readSizes(text: string | undefined): Array<[string, number, number]> | undefined {
  if (!text) return undefined;
  return text.split(',').map((item) => {
    const [family, size] = item.includes(':') ? item.split(':') : ['fleet', item];
    if (!FAMILIES[family]) throw new Error(`unknown family '${family}'`);
    const [vms, tiers] = size.split('x').map(Number);
    return [family, vms, tiers];
  });
}

if (require.main === module) {
  const env = process.env;
  runSolverBench({
    sizes: readSizes(env.BENCH_SOLVER_SIZES),
    instancesPerSize: env.BENCH_SOLVER_INSTANCES ? Number(env.BENCH_SOLVER_INSTANCES) : undefined,
    seeds: env.BENCH_SOLVER_SEEDS ? env.BENCH_SOLVER_SEEDS.split(',').map(Number) : undefined,
    timeLimitMs: env.BENCH_SOLVER_LIMIT_MS ? Number(env.BENCH_SOLVER_LIMIT_MS) : undefined,
    cbcSeconds: env.BENCH_CBC_SECONDS !== undefined ? Number(env.BENCH_CBC_SECONDS) : undefined,
    cbcInstancesPerSize: env.BENCH_CBC_INSTANCES ? Number(env.BENCH_CBC_INSTANCES) : undefined,
    cbcCache: env.BENCH_CBC_CACHE,
    cbcCachedToo: env.BENCH_CBC_CACHED === '1',
    threads: env.BENCH_SOLVER_THREADS ? env.BENCH_SOLVER_THREADS.split(',').map(Number) : undefined,
    // A JSON array of `{ "label": "...", ...AllocatorOptions }`.
    variants: env.BENCH_SOLVER_VARIANTS
      ? (JSON.parse(env.BENCH_SOLVER_VARIANTS) as Array<{ label: string } & AllocatorOptions>).map(({ label, ...rest }) => ({ label, options: rest }))
      : undefined,
    log: env.BENCH_VERBOSE ? (line) => console.error(line) : undefined,
  })
    .then((table) => console.log(table))
    .catch((err: unknown) => {
      console.error(err);
      process.exit(1);
    });
}

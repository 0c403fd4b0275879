import { execFileSync } from 'node:child_process';
import * as os from 'node:os';
import * as path from 'node:path';
import { API_BENCH_VMS, runApiBench } from './api-bench';
import { CONTAINERS_PER_ENGINE, DEFAULT_ACTUATION_SIZES, runActuationBench } from './actuation-bench';
import { startEnginePool } from './support/engine-pool';
import { ensureDocker } from './support/ensure-docker';
import { runHookBench } from './hooks-bench';
import { runPlannerBench } from './planner-bench';
import { readSizes, runSolverBench } from './solver-bench';

/**
 * `npm run bench`: the solver, actuation and API benchmarks, each printed as a markdown table.
 *
 *   BENCH_QUICK=1               smaller sizes, one round, shorter CBC limit and load phases (about a minute)
 *   BENCH_ONLY=solver,api       run only these (solver, actuation, api, planner, hooks)
 *   BENCH_PLANNER_PLANS=20  BENCH_PLANNER_PERIOD_MS=1000  BENCH_PLANNER_HOOK_S=3
 *   BENCH_SOLVER_SIZES=5x5,10x10  BENCH_SOLVER_INSTANCES=5  BENCH_CBC_SECONDS=120 (0: no CBC)  BENCH_CBC_INSTANCES=1
 *   BENCH_ACTUATION_SIZES=1,10,30  BENCH_ACTUATION_ROUNDS=5  BENCH_ACTUATION_HOOKED=10 (containers of the hook variant; 0: none)
 *   BENCH_API_SECONDS=5  BENCH_API_CONNECTIONS=1,16  BENCH_API_TRANSLATE_CONNECTIONS=1,4  BENCH_API_MIN_REQUESTS=20
 *   BENCH_HOOK_RUNS=30          timed runs per hook operation
 *   BENCH_VERBOSE=1             progress on stderr
 *
 * The actuation and API benchmarks need Docker: scripts/ensure-docker.sh is run first (it reuses the
 * engine at DOCKER_HOST or starts one, and builds the local test image, which is copied into the
 * private engines these benchmarks start and stop).
 */
async function main(): Promise<void> {
  const env = process.env;
  const quick = env.BENCH_QUICK === '1';
  const only = new Set((env.BENCH_ONLY ?? 'solver,actuation,api,planner,hooks').split(',').map((s) => s.trim()));
  const log = env.BENCH_VERBOSE ? (line: string) => console.error(`[${new Date().toISOString().slice(11, 19)}] ${line}`) : () => undefined;
  const started = Date.now();

  console.log(`# ecoware-executor benchmarks\n\n${machineDescription()}\n`);

  if (only.has('solver')) {
    await printSection('Solver', () => runSolverBench({
      sizes: readSizes(env.BENCH_SOLVER_SIZES) ?? (quick ? [['fleet', 5, 5], ['fleet', 10, 10], ['scale-out', 20, 10]] : undefined),
      instancesPerSize: readNumber(env.BENCH_SOLVER_INSTANCES) ?? (quick ? 3 : undefined),
      cbcSeconds: readNumber(env.BENCH_CBC_SECONDS) ?? (quick ? 10 : undefined),
      cbcInstancesPerSize: readNumber(env.BENCH_CBC_INSTANCES),
      log,
    }));
  }

  const actuationSizes = readList(env.BENCH_ACTUATION_SIZES) ?? (quick ? [1, 10] : DEFAULT_ACTUATION_SIZES);
  const enginesNeeded = Math.max(
    only.has('actuation') ? Math.ceil(Math.max(...actuationSizes) / CONTAINERS_PER_ENGINE) : 0,
    only.has('api') ? API_BENCH_VMS : 0,
  );
  if (enginesNeeded > 0) {
    ensureDocker(path.resolve(__dirname, '..', '..'));
    log(`starting ${enginesNeeded} private Docker engines`);
    const pool = await startEnginePool(enginesNeeded, log);
    try {
      if (only.has('actuation')) {
        await printSection('Actuation (create, resize, delete N containers; median of the rounds)', () => runActuationBench({
          engines: pool.engines,
          sizes: actuationSizes,
          rounds: readNumber(env.BENCH_ACTUATION_ROUNDS) ?? (quick ? 1 : 5),
          hookedSize: readNumber(env.BENCH_ACTUATION_HOOKED),
          log,
        }));
      }
      if (only.has('api')) {
        await printSection('API (10 VMs × 10 tiers)', () => runApiBench({
          engines: pool.engines,
          durationMs: (readNumber(env.BENCH_API_SECONDS) ?? (quick ? 2 : 5)) * 1000,
          connections: readList(env.BENCH_API_CONNECTIONS),
          translateConnections: readList(env.BENCH_API_TRANSLATE_CONNECTIONS),
          minRequests: readNumber(env.BENCH_API_MIN_REQUESTS) ?? (quick ? 5 : undefined),
          log,
        }));
      }
    } finally {
      await pool.stop();
    }
  }
  if (only.has('planner')) {
    ensureDocker(path.resolve(__dirname, '..', '..'));
    await printSection('A planner faster than its hooks (POST /api/executor?wait=false)', () => runPlannerBench({
      plans: readNumber(env.BENCH_PLANNER_PLANS) ?? (quick ? 8 : 20),
      periodMs: readNumber(env.BENCH_PLANNER_PERIOD_MS) ?? (quick ? 500 : 1000),
      hookSeconds: readNumber(env.BENCH_PLANNER_HOOK_S) ?? (quick ? 2 : 3),
      log,
    }));
  }
  if (only.has('hooks')) {
    ensureDocker(path.resolve(__dirname, '..', '..'));
    await printSection('Hook overhead per run (one busybox container on the engine at DOCKER_HOST)', () => runHookBench({
      runs: readNumber(env.BENCH_HOOK_RUNS) ?? (quick ? 10 : 30),
      log,
    }));
  }
  // Other work on the machine skews every figure above: say how busy it was.
  console.log(`_All benchmarks: ${((Date.now() - started) / 1000).toFixed(0)} s; load average at the end ${loadAverage()}._`);
}

/** A benchmark that fails is reported in its place; the others still run. */
async function printSection(title: string, run: () => Promise<string>): Promise<void> {
  try {
    console.log(`## ${title}\n\n${await run()}\n`);
  } catch (err) {
    console.log(`## ${title}\n\nFAILED: ${err instanceof Error ? err.message : String(err)}\n`);
    console.error(err);
    process.exitCode = 1;
  }
}

function machineDescription(): string {
  const cpus = os.cpus();
  const dockerd = (() => {
    try {
      return execFileSync('dockerd', ['--version'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    } catch {
      return 'dockerd not found';
    }
  })();
  return [
    `- Machine: ${cpus.length} × ${cpus[0]?.model.trim() ?? 'unknown CPU'}, ${(os.totalmem() / 2 ** 30).toFixed(1)} GiB RAM, ${os.type()} ${os.release()}`,
    `- Node.js ${process.version}; ${dockerd}`,
    `- Run at ${new Date().toISOString()}, load average ${loadAverage()} (1, 5, 15 min) at the start`,
  ].join('\n');
}

function loadAverage(): string {
  return os.loadavg().map((l) => l.toFixed(1)).join(' / ');
}

function readNumber(text: string | undefined): number | undefined {
  if (text === undefined || text === '') return undefined;
  const value = Number(text);
  if (!Number.isFinite(value) || value < 0) throw new Error(`not a non-negative number: '${text}'`);
  return value;
}

function readList(text: string | undefined): number[] | undefined {
  if (!text) return undefined;
  return text.split(',').map((s) => readNumber(s.trim())!);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});

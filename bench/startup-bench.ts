import { ChildProcess, execFileSync, spawn } from 'node:child_process';
import { promises as fs } from 'node:fs';
import * as http from 'node:http';
import * as os from 'node:os';
import * as path from 'node:path';
import { generateLoad } from './api-load-client';
import { freePort } from './support/daemon-process';
import { ensureDocker } from './support/ensure-docker';
import { markdownTable, median, percentile } from './support/stats';

/**
 * `npm run bench:startup`: how soon a started daemon answers, and how fast it answers reads.
 *
 * For each checkout (this one by default; BENCH_STARTUP_CHECKOUTS=dir1,dir2 compares built
 * checkouts side by side in one run, each with its own `dist/`), the daemon is started as a user
 * starts it (`node dist/cli.js start`) and the time from spawn to the first 200 of `/livez` and of
 * `/readyz` is measured, over BENCH_STARTUP_RUNS runs (default 10) of each case:
 *   - a new state directory (no topology);
 *   - a restart after kill -9 with a topology persisted, its node the local Docker engine
 *     (the previous run is killed with SIGKILL, as a crashed daemon is).
 * Then, on the last daemon, BENCH_STARTUP_SETTLE_S (default 15) after it is ready (its allocator
 * compiles HiGHS in the background at start), one keep-alive connection asks `GET /livez` and
 * `GET /api/allocation` for BENCH_STARTUP_LOAD_S seconds each (default 3): requests per second
 * and p50 / p99.
 * Needs Docker (scripts/ensure-docker.sh finds or starts an engine).
 */
interface Sample { livezMs: number; readyzMs: number }

const RUNS = Number(process.env.BENCH_STARTUP_RUNS ?? 10);
const LOAD_S = Number(process.env.BENCH_STARTUP_LOAD_S ?? 3);
/** The reads are measured this long after the daemon is ready: its allocator compiles HiGHS in the background at start. */
const SETTLE_S = Number(process.env.BENCH_STARTUP_SETTLE_S ?? 15);

function status(port: number, route: string): Promise<number> {
  return new Promise((resolve) => {
    const req = http.get({ host: '127.0.0.1', port, path: route, agent: false }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', () => resolve(0));
    req.setTimeout(1000, () => { req.destroy(); resolve(0); });
  });
}

/** Spawns the daemon and polls until /livez, then /readyz, answer 200. */
async function startOnce(cli: string, stateDir: string, port: number): Promise<{ child: ChildProcess; sample: Sample }> {
  const started = process.hrtime.bigint();
  const child = spawn(process.execPath, [cli, 'start', '--port', String(port), '--state-dir', stateDir], {
    stdio: ['ignore', 'ignore', 'ignore'], env: { ...process.env, ECOWARE_LOG_LEVEL: 'warn' },
  });
  const since = () => Number(process.hrtime.bigint() - started) / 1e6;
  const deadline = Date.now() + 60_000;
  let livezMs = 0;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`the daemon exited with ${child.exitCode}`);
    if (!livezMs && (await status(port, '/livez')) === 200) livezMs = since();
    if (livezMs && (await status(port, '/readyz')) === 200) return { child, sample: { livezMs, readyzMs: since() } };
    await new Promise((r) => setTimeout(r, 2));
  }
  child.kill('SIGKILL');
  throw new Error('the daemon was not ready within 60 s');
}

async function killHard(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGKILL');
  await exited;
}

async function put(port: number, route: string, body: unknown): Promise<number> {
  const res = await fetch(`http://127.0.0.1:${port}${route}`, { method: 'PUT', body: JSON.stringify(body), headers: { 'content-type': 'application/json' } });
  await res.text();
  return res.status;
}

function label(dir: string): string {
  try {
    return `${path.basename(dir)} @ ${execFileSync('git', ['-C', dir, 'rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).trim()}`;
  } catch {
    return path.basename(dir);
  }
}

async function measureCheckout(dir: string, image: string): Promise<string[][]> {
  const cli = path.join(dir, 'dist', 'cli.js');
  const root = await fs.mkdtemp(path.join(os.tmpdir(), 'ecoware-startup-'));
  const rows: string[][] = [];
  const row = (name: string, samples: Sample[]) => {
    const livez = samples.map((s) => s.livezMs);
    const readyz = samples.map((s) => s.readyzMs);
    rows.push([label(dir), name, `${median(livez).toFixed(0)} / ${Math.max(...livez).toFixed(0)}`, `${median(readyz).toFixed(0)} / ${Math.max(...readyz).toFixed(0)}`]);
  };
  let last: ChildProcess | undefined;
  try {
    const fresh: Sample[] = [];
    for (let i = 0; i < RUNS; i++) {
      const { child, sample } = await startOnce(cli, path.join(root, `fresh-${i}`), await freePort());
      fresh.push(sample);
      await killHard(child);
    }
    row('new state directory', fresh);

    const stateDir = path.join(root, 'persisted');
    const port = await freePort();
    const first = await startOnce(cli, stateDir, port);
    const topology = {
      infrastructure: { cloud_driver: { type: 'static', nodes: [{ name: 'node1', docker: process.env.DOCKER_HOST }] }, cpu_cores: 1, mem_units: 4, mem_unit_mb: 16 },
      apps: [{ name: 'startup', tiers: { web: { docker_image: image } } }],
    };
    if (await put(port, '/api/topology', topology) !== 200) throw new Error('the topology was refused');
    if (await put(port, '/api/execute', { startup: { web: { cpu_cores: 1, mem_units: 1 } } }) !== 200) throw new Error('the plan failed');
    await killHard(first.child);
    const restarts: Sample[] = [];
    for (let i = 0; i < RUNS; i++) {
      const { child, sample } = await startOnce(cli, stateDir, port);
      restarts.push(sample);
      if (i < RUNS - 1) await killHard(child);
      else last = child;
    }
    row('restart after kill -9, topology on one engine', restarts);

    await new Promise((resolve) => setTimeout(resolve, SETTLE_S * 1000));
    for (const route of ['/livez', '/api/allocation']) {
      const result = await generateLoad({ url: `http://127.0.0.1:${port}${route}`, method: 'GET', connections: 1, durationMs: LOAD_S * 1000, warmupMs: 500 });
      if (result.errors > 0) throw new Error(`GET ${route}: ${result.firstError}`);
      const rate = result.requests / (result.durationMs / 1000);
      rows.push([label(dir), `GET ${route}, one keep-alive connection`, `${rate.toFixed(0)} req/s`, `p50 ${median(result.latenciesMs).toFixed(2)} ms, p99 ${percentile(result.latenciesMs, 99).toFixed(2)} ms`]);
    }
    await put(port, '/api/execute', { startup: { web: { cpu_cores: 0, mem_units: 0 } } });
  } finally {
    if (last) await killHard(last);
    await fs.rm(root, { recursive: true, force: true });
  }
  return rows;
}

async function main(): Promise<void> {
  const here = path.resolve(__dirname, '..', '..');
  ensureDocker(here);
  const image = process.env.ECOWARE_TEST_IMAGE ?? 'ecoware/busybox:latest';
  const checkouts = (process.env.BENCH_STARTUP_CHECKOUTS ?? here).split(',').map((d) => path.resolve(d.trim())).filter(Boolean);
  const rows: string[][] = [];
  for (const dir of checkouts) rows.push(...await measureCheckout(dir, image));
  console.log(`## Start-up and reads (${RUNS} runs each; median / max ms from spawn; ${os.cpus().length} cores, load ${os.loadavg()[0].toFixed(1)})\n`);
  console.log(markdownTable(['checkout', 'case', '/livez (ms)', '/readyz (ms)'], rows));
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});

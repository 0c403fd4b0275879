import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { freshDatabase, startPostgres } from '../test/support/postgres';
import { ensureDocker } from './support/ensure-docker';
import { get, startDaemonProcess, stopDaemon, until } from './support/daemon-process';
import { markdownTable, median } from './support/stats';

/**
 * `npm run bench:plans-pg`: plans per second through one leader with its state on PostgreSQL
 * against the same on SQLite, in one run on one machine (the ratio is what to read: the machine is
 * shared). One `node dist/cli.js start` daemon at a time, its node a real Docker engine with one
 * container; BENCH_PLANS_N plans (default 200), each a resize of that container (memory 1 ↔ 2
 * units), are submitted back to back with `?wait=false&coalesce=false` (so each one runs), and the
 * time is taken from the first submission to the last execution finished. BENCH_PLANS_ROUNDS
 * rounds (default 2), the order of the two backends swapped each round.
 */
const N = Number(process.env.BENCH_PLANS_N ?? 200);
const ROUNDS = Number(process.env.BENCH_PLANS_ROUNDS ?? 2);
const ROOT = path.join(__dirname, '..', '..');

interface Result { backend: string; round: number; plansPerS: number; acceptMs: number; runMs: number; totalS: number }

async function main(): Promise<void> {
  ensureDocker(ROOT);
  const image = process.env.ECOWARE_TEST_IMAGE ?? 'ecoware/busybox:latest';
  const dir = mkdtempSync(path.join(os.tmpdir(), 'ecoware-plans-pg-'));
  const postgres = await startPostgres();
  const results: Result[] = [];
  try {
    for (let round = 1; round <= ROUNDS; round++) {
      const order = round % 2 === 1 ? ['SQLite', 'PostgreSQL'] : ['PostgreSQL', 'SQLite'];
      for (const backend of order) {
        const app = `plansbench${backend === 'SQLite' ? 's' : 'p'}${round}`;
        const args = ['--state-dir', path.join(dir, app)];
        if (backend === 'PostgreSQL') args.push('--database-url', await freshDatabase(postgres, app));
        const daemon = await startDaemonProcess(app, args);
        try {
          await until(async () => (await get(daemon.port, '/readyz')).status === 200, 60_000, `${app} to be ready`);
          const base = daemon.url;
          await call(base, 'PUT', '/api/topology', {
            infrastructure: { cloud_driver: { type: 'static', nodes: [{ name: 'node1', docker: process.env.DOCKER_HOST }] }, cpu_cores: 2, mem_units: 8, mem_unit_mb: 16 },
            apps: [{ name: app, tiers: { db: { docker_image: image } } }],
          }, 200);
          await call(base, 'PUT', '/api/execute', { [app]: { db: { cpu_cores: 1, mem_units: 1 } } }, 200);
          const accept: number[] = [];
          const t0 = performance.now();
          for (let i = 0; i < N; i++) {
            const a = performance.now();
            await call(base, 'PUT', '/api/execute?wait=false&coalesce=false', { [app]: { db: { cpu_cores: 1, mem_units: i % 2 === 0 ? 2 : 1 } } }, 202);
            accept.push(performance.now() - a);
          }
          await until(async () => (await get(daemon.port, '/api/executions?status=queued,running&limit=1')).body?.meta?.total_count === 0, 600_000, 'the plans to finish', 50);
          const totalS = (performance.now() - t0) / 1000;
          const listed = (await get(daemon.port, `/api/executions?limit=${N + 10}`, 10_000)).body.objects as { status: string; started_at?: string; finished_at?: string }[];
          const succeeded = listed.filter((e) => e.status === 'succeeded');
          if (succeeded.length < N + 1) throw new Error(`${app}: only ${succeeded.length} of ${N + 1} executions succeeded`);
          const runMs = median(succeeded.filter((e) => e.started_at && e.finished_at).map((e) => Date.parse(e.finished_at!) - Date.parse(e.started_at!)));
          results.push({ backend, round, plansPerS: N / totalS, acceptMs: median(accept), runMs, totalS });
          process.stderr.write(`round ${round}, ${backend}: ${(N / totalS).toFixed(1)} plans/s\n`);
        } finally {
          await stopDaemon(daemon);
          try { execFileSync('docker', ['rm', '-f', `${app}_db`], { stdio: 'ignore' }); } catch { /* the engine's CLI may be missing */ }
        }
      }
    }
    const rows = results.map((r) => {
      const other = results.find((o) => o.round === r.round && o.backend === 'SQLite')!;
      return [String(r.round), r.backend, r.plansPerS.toFixed(1), `${r.totalS.toFixed(1)} s`, `${r.acceptMs.toFixed(1)} ms`, `${r.runMs.toFixed(0)} ms`,
        r.backend === 'SQLite' ? '1' : `${(r.plansPerS / other.plansPerS).toFixed(2)}×`];
    });
    console.log(markdownTable(['round', 'state', 'plans/s', `${N} plans`, 'accept (202), median', 'execution, median', 'plans/s vs SQLite'], rows));
  } finally {
    await postgres.remove();
    rmSync(dir, { recursive: true, force: true });
  }
}

async function call(base: string, method: string, route: string, body: unknown, expected: number): Promise<unknown> {
  const res = await fetch(`${base}${route}`, { method, headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  const text = await res.text();
  if (res.status !== expected) throw new Error(`${method} ${route} answered ${res.status}: ${text.slice(0, 300)}`);
  return text ? JSON.parse(text) : undefined;
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});

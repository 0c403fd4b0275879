import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { startPostgres } from '../test/support/postgres';
import { ensureDocker } from './support/ensure-docker';
import { DaemonProcess, get, startDaemonProcess, stopDaemon, until } from './support/daemon-process';
import { markdownTable, median } from './support/stats';

/**
 * `npm run bench:failover-daemons`: failover between whole daemons (`node dist/cli.js start`
 * processes) on a private PostgreSQL server, with a topology whose node is a real Docker engine
 * and one container on it. A leader and a standby run; the leader is stopped with SIGTERM or
 * kill -9, and the time is taken from the signal to the standby answering `GET /api/leader` with
 * `self: leader` (it holds the lease) and to its `/readyz` 200 (it has restored the state and the
 * allocation from the engine and takes plans). Then a new standby is started for the next run.
 *
 * BENCH_FAILOVER_N runs of each case (default 20); the kill -9 case runs with the default lease
 * (15 s) and with BENCH_FAILOVER_SHORT_LEASE_S (default 3) too. BENCH_FAILOVER_ONLY=SIGTERM (or
 * SIGKILL) runs one case only.
 */
const N = Number(process.env.BENCH_FAILOVER_N ?? 20);
const SHORT_LEASE_S = Number(process.env.BENCH_FAILOVER_SHORT_LEASE_S ?? 3);
const ROOT = path.join(__dirname, '..', '..');
const APP = 'failoverbench';

interface Sample { leadsMs: number; readyMs: number }

async function main(): Promise<void> {
  ensureDocker(ROOT);
  const image = process.env.ECOWARE_TEST_IMAGE ?? 'ecoware/busybox:latest';
  const dir = mkdtempSync(path.join(os.tmpdir(), 'ecoware-failover-daemons-'));
  const postgres = await startPostgres();
  const url = postgres.url;
  let serial = 0;
  const live: DaemonProcess[] = [];
  const start = async (leaseS: number) => {
    const d = await startDaemonProcess(`d${++serial}`, ['--state-dir', path.join(dir, `s${serial}`), '--database-url', url, '--lease-s', String(leaseS)]);
    live.push(d);
    return d;
  };
  const role = async (d: DaemonProcess) => (await get(d.port, '/api/leader')).body?.self as string | undefined;
  const rows: string[][] = [];
  try {
    for (const [label, signal, leaseS] of ([
      ['SIGTERM (lease released, standbys NOTIFYed)', 'SIGTERM', 15],
      ['kill -9, lease 15 s (default)', 'SIGKILL', 15],
      [`kill -9, lease ${SHORT_LEASE_S} s`, 'SIGKILL', SHORT_LEASE_S],
    ] as const).filter(([, signal]) => !process.env.BENCH_FAILOVER_ONLY || process.env.BENCH_FAILOVER_ONLY === signal)) {
      let leader = await start(leaseS);
      await until(async () => (await get(leader.port, '/readyz')).status === 200, 60_000, 'the first leader to be ready');
      const topology = {
        infrastructure: { cloud_driver: { type: 'static', nodes: [{ name: 'node1', docker: process.env.DOCKER_HOST }] }, cpu_cores: 2, mem_units: 8, mem_unit_mb: 16 },
        apps: [{ name: APP, tiers: { db: { docker_image: image } } }],
      };
      await put(leader.port, '/api/topology', topology);
      await put(leader.port, '/api/execute', { [APP]: { db: { cpu_cores: 1, mem_units: 1 } } });
      const samples: Sample[] = [];
      for (let i = 0; i < N; i++) {
        const standby = await start(leaseS);
        await until(async () => (await role(standby)) === 'standby', 30_000, 'the standby to stand by');
        // Past a renewal or two, as in a steady state.
        await new Promise((r) => setTimeout(r, 2_500));
        const t0 = performance.now();
        leader.child.kill(signal);
        await until(async () => (await role(standby)) === 'leader', 60_000, 'the standby to lead', 10);
        const leadsMs = performance.now() - t0;
        await until(async () => (await get(standby.port, '/readyz')).status === 200, 60_000, 'the new leader to be ready', 10);
        samples.push({ leadsMs, readyMs: performance.now() - t0 });
        await leader.exited;
        live.splice(live.indexOf(leader), 1);
        leader = standby;
        process.stderr.write(`${label}: run ${i + 1}/${N}: leads after ${Math.round(leadsMs)} ms, ready after ${Math.round(samples[i].readyMs)} ms\n`);
      }
      await stopDaemon(leader);
      live.splice(live.indexOf(leader), 1);
      const max = (xs: number[]) => Math.max(...xs);
      const leads = samples.map((s) => s.leadsMs);
      const ready = samples.map((s) => s.readyMs);
      rows.push([label, fmt(median(leads)), fmt(max(leads)), fmt(median(ready)), fmt(max(ready)), String(samples.length)]);
    }
    console.log(markdownTable(['the leader is stopped with', 'standby leads: median', 'max', '/readyz 200: median', 'max', 'n'], rows));
  } finally {
    for (const d of live) await stopDaemon(d, 'SIGKILL');
    try { execFileSync('docker', ['rm', '-f', `${APP}_db`], { stdio: 'ignore' }); } catch { /* the engine's CLI may be missing */ }
    await postgres.remove();
    rmSync(dir, { recursive: true, force: true });
  }
}

const fmt = (ms: number) => (ms >= 1000 ? `${(ms / 1000).toFixed(2)} s` : `${Math.round(ms)} ms`);

async function put(port: number, route: string, body: unknown): Promise<void> {
  const res = await fetch(`http://127.0.0.1:${port}${route}`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  if (res.status !== 200) throw new Error(`PUT ${route} answered ${res.status}: ${(await res.text()).slice(0, 300)}`);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});

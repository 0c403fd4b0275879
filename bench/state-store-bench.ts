import { promises as fsp, writeFileSync, mkdirSync, statSync, readdirSync } from 'node:fs';
import { Server } from 'node:http';
import { AddressInfo } from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { Execution } from '../src/domain/execution';
import { FileExecutionStore } from '../test/support/json-layout/file-execution-store';
import { buildApp } from '../src/http/app';
import { openSqliteState } from '../src/drivers/sqlite/sqlite-state';
import { startDaemon } from '../src/main';
import { Knowledge, Services } from '../src/use-cases/cluster/knowledge';
import { PlanExecutions } from '../src/use-cases/execution/plan-executions';
import { SerialQueue } from '../src/use-cases/execution/serial-queue';
import { elapsedMs, formatMs, median } from './support/stats';

/**
 * `npm run bench:state`: the state store with a long history. N executions (default 100,000;
 * BENCH_STATE_N) are written in the JSON-file layout, measured there, then imported into SQLite by
 * a first daemon start and measured again:
 *
 * - start → `/readyz` 200: for the JSON layout, what its start did before listening (every record
 *   read by the recovery of unfinished executions, 100 at a time); for SQLite, a real daemon start
 *   timed from the call to the first 200 of `/readyz`;
 * - latency over HTTP (the same bare express app over either store) of `GET /api/executions?limit=20` and `?status=failed&limit=20` (median and
 *   worst of BENCH_STATE_REQUESTS requests, default 20; the JSON filter reads every record, so it
 *   runs twice). Retention is off for the measurement (every record is kept).
 *
 * Records look like the audit's (10 VMs × 5 tiers before and after, 3 layers of 8 actions each with
 * a hook's output), one in 20 failed.
 */
const N = Number(process.env.BENCH_STATE_N ?? 100_000);
const REQUESTS = Number(process.env.BENCH_STATE_REQUESTS ?? 20);

function record(i: number): Execution {
  const created = new Date(Date.UTC(2025, 0, 1) + i * 30_000).toISOString();
  const id = `${created.replace(/[-:.Z]/g, '')}000-${(i % 0xffffff).toString(16).padStart(6, '0')}`;
  const allocation: Record<string, unknown> = {};
  for (let v = 0; v < 10; v++) {
    const used: Record<string, unknown> = {};
    for (let t = 0; t < 5; t++) used[`app_tier${t}`] = { cpu_cores: 1, mem_units: 2 };
    allocation[`vm${v}`] = { ip: `10.0.0.${v}`, cpu_cores: 8, mem_units: 32, used };
  }
  const steps = [0, 1, 2].map((l) => Array.from({ length: 8 }, (_, a) => ({
    description: `update container 'app_tier${a % 5}' on vm 'vm${a}' with cpu cores=2 and mem_units=4`,
    action: { type: 'update_container', vm: `vm${a}`, tier: `app_tier${a % 5}`, resources: { cpu_cores: 2, mem_units: 4 }, cpuset: [0, 1] },
    status: 'succeeded', started_at: created, finished_at: created, duration_ms: 120 + l,
    hooks: [{ event: 'on_node_scale', hook: 'tune.sh', exitCode: 0, stdout: 'x'.repeat(400), stderr: '', durationMs: 80 }],
    progress: [],
  })));
  return {
    id, kind: 'plan', status: i % 20 === 7 ? 'failed' : 'succeeded', plan: { app_tier0: { cpu_cores: 2, mem_units: 4 } },
    created_at: created, started_at: created, finished_at: created,
    ...(i % 20 === 7 ? { error: { code: 'action_failed', message: 'an engine said no' } } : {}),
    allocation_before: allocation, allocation_after: allocation, steps, timings_ms: { solve: 20, run: 400, total: 430 },
  } as unknown as Execution;
}

async function timeRequests(base: string, p: string, n: number): Promise<{ median: number; worst: number; total?: number }> {
  const times: number[] = [];
  let total: number | undefined;
  for (let i = 0; i < n; i++) {
    const t = process.hrtime.bigint();
    const res = await fetch(`${base}${p}`);
    const body = await res.json() as { meta: { total_count: number } };
    times.push(elapsedMs(t));
    if (res.status !== 200) throw new Error(`${p}: ${res.status}`);
    total = body.meta.total_count;
  }
  return { median: median(times), worst: Math.max(...times), total };
}

async function main(): Promise<void> {
  const root = await fsp.mkdtemp(path.join(process.env.BENCH_STATE_DIR ?? os.tmpdir(), 'ecoware-state-bench-'));
  const stateDir = path.join(root, 'state');
  const executionsDir = path.join(stateDir, 'executions');
  mkdirSync(executionsDir, { recursive: true });
  const log = (line: string) => console.error(`[${new Date().toISOString().slice(11, 19)}] ${line}`);
  try {
    log(`writing ${N} records in the JSON-file layout`);
    let bytes = 0;
    for (let i = 0; i < N; i++) {
      const e = record(i);
      const text = JSON.stringify(e, null, 2) + '\n';
      bytes += text.length;
      writeFileSync(path.join(executionsDir, `${e.id}.json`), text);
    }
    const failedCount = Math.floor((N + 12) / 20);

    // JSON-file layout: the earlier start read every record (recovery) before listening.
    log('JSON layout: start (recovery scan)');
    const jsonStore = new FileExecutionStore(stateDir);
    const scanStarted = process.hrtime.bigint();
    for (let offset = 0; ; offset += 100) {
      const page = await jsonStore.list({ limit: 100, offset });
      if (offset + page.items.length >= page.total) break;
    }
    const jsonStart = elapsedMs(scanStarted);
    const fresh = new FileExecutionStore(stateDir);
    const queue = new SerialQueue();
    const knowledge = new Knowledge();
    const services = { executions: fresh } as unknown as Services;
    const app = buildApp({ knowledge, services, queue, executions: undefined as unknown as PlanExecutions });
    const server: Server = await new Promise((resolve) => { const s = app.listen(0, '127.0.0.1', () => resolve(s)); });
    const jsonBase = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    log('JSON layout: listing latency');
    const jsonFirst = await timeRequests(jsonBase, '/api/executions?limit=20', 1);
    const jsonList = await timeRequests(jsonBase, '/api/executions?limit=20', REQUESTS);
    const jsonFailed = await timeRequests(jsonBase, '/api/executions?status=failed&limit=20', 2);
    await new Promise((r) => server.close(r));

    // SQLite: the first start imports the layout; the second is an ordinary start.
    log('SQLite: first start (imports the JSON layout)');
    let started = process.hrtime.bigint();
    let daemon = await startDaemon({ port: 0, stateDir, localDocker: 'tcp://127.0.0.1:1', executionRetentionCount: 1e9 });
    const importMs = elapsedMs(started);
    await daemon.close();
    const dbBytes = readdirSync(stateDir).filter((f) => f.startsWith('ecoware.db')).reduce((sum, f) => sum + statSync(path.join(stateDir, f)).size, 0);

    log('SQLite: start → /readyz');
    started = process.hrtime.bigint();
    daemon = await startDaemon({ port: 0, stateDir, localDocker: 'tcp://127.0.0.1:1', executionRetentionCount: 1e9 }, { waitReady: false });
    const listening = elapsedMs(started);
    for (;;) {
      const res = await fetch(`${daemon.url}/readyz`);
      if (res.status === 200) break;
      await new Promise((r) => setTimeout(r, 2));
    }
    const sqliteReady = elapsedMs(started);
    const rss = process.memoryUsage().rss;
    await daemon.close();
    // Latency through the same bare HTTP app as the JSON store (a daemon also warms its solver up
    // in a worker thread at start, which would compete for the CPU with the measurement).
    log('SQLite: listing latency');
    const state = await openSqliteState(stateDir);
    const sqliteApp = buildApp({ knowledge, services: { executions: state.executions } as unknown as Services, queue, executions: undefined as unknown as PlanExecutions });
    const sqliteServer: Server = await new Promise((resolve) => { const s = sqliteApp.listen(0, '127.0.0.1', () => resolve(s)); });
    const sqliteBase = `http://127.0.0.1:${(sqliteServer.address() as AddressInfo).port}`;
    const sqliteFirst = await timeRequests(sqliteBase, '/api/executions?limit=20', 1);
    const sqliteList = await timeRequests(sqliteBase, '/api/executions?limit=20', REQUESTS);
    const sqliteFailed = await timeRequests(sqliteBase, '/api/executions?status=failed&limit=20', REQUESTS);
    await new Promise((r) => sqliteServer.close(r));
    state.close();
    if (sqliteFailed.total !== failedCount || jsonFailed.total !== failedCount) throw new Error(`failed counts differ: ${sqliteFailed.total} / ${jsonFailed.total} / ${failedCount}`);

    console.log(`## State store: ${N.toLocaleString('en')} executions (${(bytes / N / 1024).toFixed(1)} KiB each as JSON; ${failedCount.toLocaleString('en')} failed)\n`);
    console.log(`${os.cpus().length} × ${os.cpus()[0]?.model ?? 'cpu'}, Node.js ${process.version}, warm page cache\n`);
    console.log('| | JSON files | SQLite |');
    console.log('|---|---|---|');
    console.log(`| start → /readyz 200 | ${formatMs(jsonStart)} (every record read before listening) | ${formatMs(sqliteReady)} (port open after ${formatMs(listening)}) |`);
    console.log(`| \`GET /api/executions?limit=20\`, first | ${formatMs(jsonFirst.median)} | ${formatMs(sqliteFirst.median)} |`);
    console.log(`| \`GET /api/executions?limit=20\`, median / worst of ${REQUESTS} | ${formatMs(jsonList.median)} / ${formatMs(jsonList.worst)} | ${formatMs(sqliteList.median)} / ${formatMs(sqliteList.worst)} |`);
    console.log(`| \`GET /api/executions?status=failed&limit=20\`, median / worst | ${formatMs(jsonFailed.median)} / ${formatMs(jsonFailed.worst)} (of 2) | ${formatMs(sqliteFailed.median)} / ${formatMs(sqliteFailed.worst)} (of ${REQUESTS}) |`);
    console.log(`| on disk | ${(bytes / 1e9).toFixed(2)} GB in ${N.toLocaleString('en')} files | ${(dbBytes / 1e9).toFixed(2)} GB in one file |`);
    console.log(`\nImport of the JSON layout on the first SQLite start: ${formatMs(importMs)}. Bench process RSS after the SQLite start: ${(rss / 1e6).toFixed(0)} MB.`);
  } finally {
    await fsp.rm(root, { recursive: true, force: true });
  }
}

main().then(() => process.exit(0), (e) => { console.error(e); process.exit(1); });

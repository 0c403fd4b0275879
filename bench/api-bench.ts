import { fork } from 'node:child_process';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { startDaemon } from '../src/main';
import { parseNestedPlan } from '../src/http/plan-request';
import { decide, takeSnapshot } from '../src/use-cases/execution/decide';
import { TestEngine } from '../test/support/engines';
import type { LoadResult, LoadSpec } from './api-load-client';
import { callDaemon } from './support/daemon-client';
import { formatMs, markdownTable, median, percentile } from './support/stats';

export interface ApiBenchOptions {
  /** Ten private engines: the ten VMs. */
  engines: TestEngine[];
  /** Measured seconds per endpoint and concurrency (after a 1 s warm-up). */
  durationMs?: number;
  /** Concurrency levels of GET /api/allocation: keep-alive connections, one request in flight on each. */
  connections?: number[];
  /** Concurrency levels of PUT /api/translate, which is CPU-bound in the solver. */
  translateConnections?: number[];
  /** Answers counted at least, per row, however long that takes. */
  minRequests?: number;
  image?: string;
  log?: (line: string) => void;
}

export const API_BENCH_VMS = 10;
const APP = 'apibench';
const WARMUP_MS = 1_000;

/**
 * Ten tiers asking for 80 % of ten 2-core, 8-unit VMs (16 cores, 64 units), two of them `max_node: 1`.
 * Deployed for real, so the daemon holds a 10 × 10 allocation rebuilt from engines, as in production.
 */
const TIERS: Record<string, { cpu_cores: number; mem_units: number; max_node?: number }> = {
  t0: { cpu_cores: 3, mem_units: 10 },
  t1: { cpu_cores: 2, mem_units: 8, max_node: 1 },
  t2: { cpu_cores: 2, mem_units: 6 },
  t3: { cpu_cores: 2, mem_units: 6 },
  t4: { cpu_cores: 2, mem_units: 6 },
  t5: { cpu_cores: 1, mem_units: 6, max_node: 1 },
  t6: { cpu_cores: 1, mem_units: 6 },
  t7: { cpu_cores: 1, mem_units: 6 },
  t8: { cpu_cores: 1, mem_units: 5 },
  t9: { cpu_cores: 1, mem_units: 5 },
};

/** The previewed plan: six tiers resized (cores moved between tiers, memory up and down), 16 cores and 67 units in all. */
const PREVIEW_PLAN = {
  [APP]: {
    t0: { cpu_cores: 2, mem_units: 10 },
    t2: { cpu_cores: 3, mem_units: 7 },
    t3: { cpu_cores: 2, mem_units: 8 },
    t4: { cpu_cores: 1, mem_units: 5 },
    t6: { cpu_cores: 2, mem_units: 6 },
    t9: { cpu_cores: 1, mem_units: 6 },
  },
};

/**
 * Requests per second and latency of `GET /api/allocation` and `PUT /api/translate` on a 10 VM ×
 * 10 tier deployment, under closed-loop load from a separate process. Returns a markdown table.
 */
export async function runApiBench(options: ApiBenchOptions): Promise<string> {
  const durationMs = options.durationMs ?? 5_000;
  const readLevels = options.connections ?? [1, 16];
  const translateLevels = options.translateConnections ?? [1, 4];
  const minRequests = options.minRequests ?? 20;
  const image = options.image ?? process.env.ECOWARE_TEST_IMAGE ?? 'ecoware/busybox:latest';
  const log = options.log ?? (() => undefined);
  if (options.engines.length < API_BENCH_VMS) throw new Error(`the API benchmark needs ${API_BENCH_VMS} engines, got ${options.engines.length}`);
  const engines = options.engines.slice(0, API_BENCH_VMS);

  const stateDir = await fs.mkdtemp(path.join(os.tmpdir(), 'ecoware-bench-api-'));
  const daemon = await startDaemon({ port: 0, stateDir, localDocker: engines[0].endpoint });
  try {
    await callDaemon(daemon.url, 'PUT', '/api/topology', {
      infrastructure: {
        cloud_driver: { type: 'static', nodes: engines.map((e, i) => ({ name: `vm${i}`, docker: e.endpoint })) },
        cpu_cores: 2, mem_units: 8, mem_unit_mb: 32,
      },
      apps: [{
        name: APP,
        tiers: Object.fromEntries(Object.entries(TIERS).map(([name, t]) => [name, {
          docker_image: image, ...(t.max_node !== undefined ? { max_node: t.max_node } : {}),
        }])),
      }],
    });
    const deployment = { [APP]: Object.fromEntries(Object.entries(TIERS).map(([name, t]) => [name, { cpu_cores: t.cpu_cores, mem_units: t.mem_units }])) };
    const applied = await callDaemon<{ status: string }>(daemon.url, 'PUT', '/api/execute', deployment);
    if (applied.status !== 'succeeded') throw new Error(`deploying the 10 × 10 state ${applied.status}`);
    const allocation = await callDaemon<Record<string, { used: Record<string, unknown> }>>(daemon.url, 'GET', '/api/allocation');
    const containers = Object.values(allocation).reduce((n, vm) => n + Object.keys(vm.used).length, 0);
    const usedVms = Object.values(allocation).filter((vm) => Object.keys(vm.used).length > 0).length;
    log(`api: deployed ${containers} containers on ${usedVms} of ${Object.keys(allocation).length} VMs`);
    // The preview must be a real change, or the benchmark would measure a no-op.
    const preview = await callDaemon<{ actions: string[][] }>(daemon.url, 'PUT', '/api/translate', PREVIEW_PLAN);
    const previewActions = preview.actions.flat().length;
    if (previewActions === 0) throw new Error('the previewed plan changes nothing');

    // Where a preview's time goes: the same decision in-process, without HTTP or load.
    const solveMs: number[] = [];
    let optimal = true;
    for (let i = 0; i < 5; i++) {
      const deployment = daemon.knowledge.requireDeployment();
      const decision = await decide(await takeSnapshot(deployment), daemon.services.allocator, parseNestedPlan(PREVIEW_PLAN, deployment.topology));
      solveMs.push(decision.timingsMs.solve ?? 0);
      optimal &&= decision.result.optimal;
    }
    log(`api: the previewed plan solves in ${solveMs.map((ms) => formatMs(ms)).join(', ')}`);

    const rows: string[][] = [];
    const endpoints: Array<{ label: string; levels: number[]; spec: Omit<LoadSpec, 'connections' | 'durationMs' | 'warmupMs'> }> = [
      { label: 'GET /api/allocation', levels: readLevels, spec: { url: `${daemon.url}/api/allocation`, method: 'GET' } },
      { label: `PUT /api/translate (${previewActions} actions)`, levels: translateLevels, spec: { url: `${daemon.url}/api/translate`, method: 'PUT', body: PREVIEW_PLAN } },
    ];
    for (const endpoint of endpoints) {
      for (const connections of endpoint.levels) {
        const result = await loadFromChild({ ...endpoint.spec, connections, durationMs, warmupMs: WARMUP_MS, minRequests });
        const rps = result.requests / (result.durationMs / 1000);
        log(`api: ${endpoint.label} x${connections}: ${rps.toFixed(1)} req/s, p99 ${formatMs(percentile(result.latenciesMs, 99))}, ` +
          `${result.requests} answers in ${formatMs(result.durationMs)}, ${result.errors} errors${result.firstError ? ` (${result.firstError})` : ''}`);
        rows.push([
          endpoint.label, String(connections), rps.toFixed(rps < 100 ? 1 : 0),
          formatMs(percentile(result.latenciesMs, 50)), formatMs(percentile(result.latenciesMs, 99)),
          formatMs(percentile(result.latenciesMs, 100)), String(result.requests), String(result.errors),
        ]);
      }
    }
    // A solve runs on the daemon's event loop: what a reader sees while a planner previews.
    {
      const connections = readLevels[0] ?? 1;
      const [reads] = await Promise.all([
        loadFromChild({ ...endpoints[0].spec, connections, durationMs, warmupMs: WARMUP_MS, minRequests }),
        loadFromChild({ ...endpoints[1].spec, connections: 1, durationMs: durationMs + WARMUP_MS, warmupMs: 0 }),
      ]);
      const rps = reads.requests / (reads.durationMs / 1000);
      log(`api: GET /api/allocation x${connections} beside a translate loop: ${rps.toFixed(1)} req/s, p99 ${formatMs(percentile(reads.latenciesMs, 99))}`);
      rows.push([
        'GET /api/allocation while 1 client previews in a loop', String(connections), rps.toFixed(rps < 100 ? 1 : 0),
        formatMs(percentile(reads.latenciesMs, 50)), formatMs(percentile(reads.latenciesMs, 99)),
        formatMs(percentile(reads.latenciesMs, 100)), String(reads.requests), String(reads.errors),
      ]);
    }
    const header = ['endpoint', 'connections', 'requests/s', 'p50', 'p99', 'max', 'answers', 'errors'];
    return `${markdownTable(header, rows)}\n\n` +
      `Deployment: ${containers} containers of 10 tiers on ${usedVms} of 10 VMs (each a dockerd of its own, 2 cores and 8 × 32 MiB declared). ` +
      `Each row: ${durationMs / 1000} s after a ${WARMUP_MS / 1000} s warm-up, longer until ${minRequests} answers were counted. ` +
      `The previewed plan alone, in-process: solve ${formatMs(median(solveMs))} median of 5 (${formatMs(Math.min(...solveMs))} – ${formatMs(Math.max(...solveMs))}), ` +
      `${optimal ? 'proven optimal' : 'not proven optimal'} each time.`;
  } finally {
    await daemon.close();
    await fs.rm(stateDir, { recursive: true, force: true });
  }
}

/** Runs the load generator in a child process and returns what it measured. */
function loadFromChild(spec: LoadSpec): Promise<LoadResult> {
  return new Promise((resolve, reject) => {
    const child = fork(path.join(__dirname, 'api-load-client.js'), [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    let result: LoadResult | undefined;
    child.once('message', (message) => { result = message as LoadResult; });
    child.once('error', reject);
    child.once('exit', (code) => {
      if (result) resolve(result);
      else reject(new Error(`the load generator exited with code ${code} without a result`));
    });
    child.send(spec);
  });
}

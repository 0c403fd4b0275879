/// <reference lib="dom" />
/**
 * The operator's page, measured in Debian's chromium (playwright-core): `npm run bench:ui`.
 *
 * The page is fed a synthetic state through the daemon's own code where it matters: the page's
 * files by the real /ui router (dist/ui, so run `npm run build` first: bench:ui does), the event
 * stream by the real /api/events router over an EventBus, and the JSON routes built with the API's
 * own shaping functions (summarise, pageEnvelope, readPage, readExecutionFilter) over records made
 * here: 100 nodes of 32 cores and 64 memory units, 500 tiers (50 apps of 10) with one container
 * each, 10,000 executions of 2 layers of 3 actions. A node's cordon flips it and publishes the
 * node event, as NodeAdmin does.
 *
 * Measured: the assets' sizes; the time to first render (first contentful paint, and until the
 * overview shows the data); the Nodes and Executions views' render time with the state loaded;
 * the delay from a change (a cordon) to the page, with 50 pages open (each its own browser context,
 * so its own stream).
 */
import { promises as fs, readFileSync } from 'fs';
import { gzipSync } from 'zlib';
import * as http from 'http';
import { AddressInfo } from 'net';
import * as os from 'os';
import * as path from 'path';
import express from 'express';
import { BrowserContext, chromium, Page } from 'playwright-core';
import { EventBus } from '../src/domain/events';
import { Execution } from '../src/domain/execution';
import { createEventStreamRouter } from '../src/http/event-stream';
import { readExecutionFilter } from '../src/http/execution-filter';
import { summarise } from '../src/http/execution-responses';
import { pageEnvelope, readPage } from '../src/http/pagination';
import { createUiRouter } from '../src/http/ui-routes';

const NODES = Number(process.env.BENCH_UI_NODES ?? 100);
const APPS = 50;
const TIERS_PER_APP = Number(process.env.BENCH_UI_TIERS ?? 500) / APPS;
const EXECUTIONS = Number(process.env.BENCH_UI_EXECUTIONS ?? 10_000);
const STREAMS = Number(process.env.BENCH_UI_STREAMS ?? 50);
const ROUNDS = Number(process.env.BENCH_UI_ROUNDS ?? 5);
const UI_DIR = path.resolve('dist', 'ui');
const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--disable-quic', '--disable-dev-shm-usage'];

interface SyntheticState { nodes: any[]; topology: any; executions: Execution[] }

function syntheticState(nodeCount: number, appCount: number, tiersPerApp: number, executionCount: number): SyntheticState {
  const nodes = Array.from({ length: nodeCount }, (_, i) => ({
    name: `node-${String(i).padStart(3, '0')}`, docker: `tcp://10.0.${Math.floor(i / 250)}.${i % 250}:2375`, address: `10.0.${Math.floor(i / 250)}.${i % 250}`,
    labels: { zone: `z${i % 3}`, pool: i % 2 ? 'general' : 'memory' }, health: 'ready', schedulable: true, cordoned: false, draining: false,
    last_seen: new Date().toISOString(), ping_ms: 2, capacity: { cpu_cores: 32, mem_units: 64 }, used: { cpu_cores: 0, mem_units: 0 }, containers: [] as any[],
  }));
  const apps = Array.from({ length: appCount }, (_, a) => ({ name: `app${a}`, tiers: Object.fromEntries(Array.from({ length: tiersPerApp }, (_, t) => [`tier${t}`, { docker_image: 'busybox' }])) }));
  let k = 0;
  for (const app of apps) {
    for (const tier of Object.keys(app.tiers)) {
      const node = nodes[k % nodeCount];
      const cores = 1 + (k % 3);
      const first = node.used.cpu_cores;
      node.containers.push({ tier: `${app.name}_${tier}`, id: `${k.toString(16).padStart(12, '0')}abcdef`, state: 'running', cpu_cores: cores, mem_units: 2, cpuset: Array.from({ length: cores }, (_, c) => first + c).join(',') });
      node.used.cpu_cores += cores;
      node.used.mem_units += 2;
      k += 1;
    }
  }
  const kinds = ['plan', 'plan', 'plan', 'reconcile', 'drain', 'rollback', 'system'] as const;
  const start = Date.now() - executionCount * 60_000;
  const executions: Execution[] = Array.from({ length: executionCount }, (_, i) => {
    const at = (ms: number) => new Date(start + i * 60_000 + ms).toISOString();
    const failed = i % 17 === 0;
    const steps = [0, 1].map((l) => [0, 1, 2].map((a) => ({
      description: `create container 'app${i % appCount}_tier${a}' on vm 'node-${String((i + a) % nodeCount).padStart(3, '0')}' with cpu cores=1 and mem_units=2`,
      action: { type: 'create_container' } as any, status: failed && l === 1 ? (a === 0 ? 'failed' : 'skipped') : 'succeeded',
      duration_ms: 300 + a * 50, hooks: [], progress: [], ...(failed && l === 1 && a === 0 ? { error: 'hook exited 1', error_code: 'hook_failed' } : {}),
    })));
    return {
      id: `${new Date(start + i * 60_000).toISOString().replace(/[-:.]/g, '').replace('Z', '')}000-${i.toString(16).padStart(6, '0')}`,
      kind: kinds[i % kinds.length], status: failed ? 'failed' : 'succeeded', plan: { [`app${i % appCount}_tier0`]: { cpu_cores: 1, mem_units: 2 } },
      created_at: at(0), started_at: at(10), finished_at: at(2000), cost: 10, timings_ms: { solve: 12, translate: 1, run: 1900 },
      steps, ...(failed ? { error: { code: 'action_failed', message: 'an action failed' } } : {}),
    } as unknown as Execution;
  }).reverse(); // newest first, as the store lists them
  return { nodes, topology: { infrastructure: { cpu_cores: 32, mem_units: 64 }, apps }, executions };
}

async function startServer(state: SyntheticState): Promise<{ url: string; bus: EventBus; cordon(name: string): void; close(): Promise<void> }> {
  const bus = new EventBus();
  const app = express();
  app.use(createUiRouter({ dir: UI_DIR }));
  app.use(createEventStreamRouter(bus));
  const byId = new Map(state.executions.map((e) => [e.id, e]));
  app.get('/api/nodes', (_req, res) => { res.json(state.nodes); });
  app.get('/api/topology', (_req, res) => { res.json(state.topology); });
  app.get('/api/systems', (_req, res) => { res.json([]); });
  app.get('/api/executions', (req, res) => {
    const page = readPage(req.query);
    const filter = readExecutionFilter(req.query);
    const matching = state.executions.filter((e) => (!filter.status || filter.status.includes(e.status)) && (!filter.kind || filter.kind.includes(e.kind)));
    res.json(pageEnvelope('/api/executions', page, matching.length, matching.slice(page.offset, page.offset + page.limit).map(summarise), filter.query));
  });
  app.get('/api/executions/:id', (req, res) => {
    const e = byId.get(req.params.id);
    if (!e) { res.status(404).json({ error: 'not found', code: 'not_found' }); return; }
    res.json(e);
  });
  const server = http.createServer(app);
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    bus,
    cordon(name: string) {
      const node = state.nodes.find((n) => n.name === name);
      node.cordoned = !node.cordoned;
      node.schedulable = !node.cordoned;
      bus.publish({ type: 'node', name, cordoned: node.cordoned, at: new Date().toISOString() });
    },
    async close() {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

const median = (xs: number[]) => { const s = [...xs].sort((a, b) => a - b); return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2; };
const pct = (xs: number[], p: number) => { const s = [...xs].sort((a, b) => a - b); return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)]; };
const ms = (x: number) => `${Math.round(x)} ms`;

/** Time from a hash change to `count` elements matching `selector`, and the next frame painted. */
async function renderTime(page: Page, hash: string, selector: string, count: number): Promise<number> {
  return page.evaluate(async ({ hash, selector, count }) => {
    const t0 = performance.now();
    location.hash = hash;
    await new Promise<void>((resolve) => {
      const check = () => (document.querySelectorAll(selector).length >= count ? resolve() : requestAnimationFrame(check));
      check();
    });
    await new Promise((r) => requestAnimationFrame(() => setTimeout(r, 0)));
    return performance.now() - t0;
  }, { hash, selector, count });
}

async function firstRender(context: BrowserContext, url: string, nodes: number): Promise<{ fcp: number; data: number }> {
  const page = await context.newPage();
  await page.goto(`${url}/ui#/`);
  await page.waitForFunction((n) => document.querySelector('.stat-value')?.textContent === String(n), nodes);
  const result = await page.evaluate(() => ({
    fcp: performance.getEntriesByName('first-contentful-paint')[0]?.startTime ?? NaN,
    data: performance.now(),
  }));
  await page.close();
  return result;
}

async function main(): Promise<void> {
  const lines: string[] = [];
  const say = (line = '') => { lines.push(line); console.log(line); };
  await fs.access(path.join(UI_DIR, 'app.js')).catch(() => { throw new Error('dist/ui is missing: run npm run build'); });
  say(`# The operator's page (npm run bench:ui)`);
  say();
  say(`- Machine: ${os.cpus().length} × ${os.cpus()[0].model.trim()}, ${(os.totalmem() / 2 ** 30).toFixed(1)} GiB; load average ${os.loadavg().map((l) => l.toFixed(1)).join(' / ')} at the start`);
  say(`- Node.js ${process.version}; ${(await import('child_process')).execFileSync('/usr/bin/chromium', ['--version']).toString().trim()}; ${new Date().toISOString()}`);
  say();
  say('| asset | bytes | gzip |');
  say('|---|---:|---:|');
  let total = 0; let totalGz = 0;
  for (const f of ['index.html', 'app.js', 'app.css']) {
    const data = readFileSync(path.join(UI_DIR, f));
    const gz = gzipSync(data, { level: 9 }).length;
    total += data.length; totalGz += gz;
    say(`| ${f} | ${data.length} | ${gz} |`);
  }
  say(`| **all** | **${total}** | **${totalGz}** |`);
  say();

  // Each page gets a browser context of its own: a fresh, in-memory profile.
  const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', headless: true, args: ARGS });
  try {
    const small = syntheticState(2, 1, 5, 20);
    const big = syntheticState(NODES, APPS, TIERS_PER_APP, EXECUTIONS);
    const tiers = big.nodes.reduce((n, x) => n + x.containers.length, 0);
    say(`Synthetic states: small = 2 nodes (the demo's size), ${small.nodes.reduce((n, x) => n + x.containers.length, 0)} tiers, 20 executions; large = ${NODES} nodes, ${tiers} tiers, ${EXECUTIONS} executions. ${ROUNDS} rounds each, median (and worst).`);
    say();
    say('| measure | small state | large state |');
    say('|---|---:|---:|');
    const serverSmall = await startServer(small);
    const serverBig = await startServer(big);
    try {
      const fr = async (url: string, n: number) => {
        const runs: { fcp: number; data: number }[] = [];
        for (let i = 0; i < ROUNDS; i++) {
          const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
          runs.push(await firstRender(context, url, n));
          await context.close();
        }
        return runs;
      };
      const a = await fr(serverSmall.url, 2);
      const b = await fr(serverBig.url, NODES);
      say(`| first contentful paint (navigation start →) | ${ms(median(a.map((r) => r.fcp)))} (${ms(Math.max(...a.map((r) => r.fcp)))}) | ${ms(median(b.map((r) => r.fcp)))} (${ms(Math.max(...b.map((r) => r.fcp)))}) |`);
      say(`| overview with the data (navigation start →) | ${ms(median(a.map((r) => r.data)))} (${ms(Math.max(...a.map((r) => r.data)))}) | ${ms(median(b.map((r) => r.data)))} (${ms(Math.max(...b.map((r) => r.data)))}) |`);

      const views = async (url: string, nodes: number, executions: number) => {
        const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
        const page = await context.newPage();
        await page.goto(`${url}/ui#/`);
        await page.waitForFunction((n) => document.querySelector('.stat-value')?.textContent === String(n), nodes);
        await page.waitForSelector('.last[data-execution]');
        const out = { nodes: [] as number[], executions: [] as number[], filter: [] as number[], detail: [] as number[] };
        for (let i = 0; i < ROUNDS; i++) {
          await renderTime(page, '#/', '.stat-value', 1);
          out.nodes.push(await renderTime(page, '#/nodes', '[data-node]', nodes));
          await renderTime(page, '#/', '.stat-value', 1);
          out.executions.push(await renderTime(page, '#/executions', 'tr[data-execution]', Math.min(50, executions)));
          // A filter: the server filters, the page renders the new page of 50.
          const t0 = Date.now();
          await page.selectOption('select >> nth=0', i % 2 ? 'drain' : 'plan');
          await page.waitForFunction((k) => Array.from(document.querySelectorAll('tr[data-execution] td:nth-child(2)')).every((td) => td.textContent === k) && document.querySelectorAll('tr[data-execution]').length > 0, i % 2 ? 'drain' : 'plan');
          out.filter.push(Date.now() - t0);
          await page.selectOption('select >> nth=0', '');
          const id = await page.getAttribute('tr[data-execution]', 'data-execution');
          out.detail.push(await renderTime(page, `#/executions/${id}`, `.page[data-execution="${id}"] .action`, 6));
        }
        await context.close();
        return out;
      };
      const vs = await views(serverSmall.url, 2, small.executions.length);
      const vb = await views(serverBig.url, NODES, EXECUTIONS);
      const row = (label: string, x: number[], y: number[]) => say(`| ${label} | ${ms(median(x))} (${ms(Math.max(...x))}) | ${ms(median(y))} (${ms(Math.max(...y))}) |`);
      row('Nodes view rendered (state loaded, hash change →)', vs.nodes, vb.nodes);
      row('Executions view rendered (a page of 50)', vs.executions, vb.executions);
      row('Executions filtered by kind (request + render)', vs.filter, vb.filter);
      row('one execution\'s detail (request + render)', vs.detail, vb.detail);
      say();

      // The delay from a change to the page, with STREAMS pages open, each in its own context (its own connections).
      for (const [label, server, state] of [['small', serverSmall, small], ['large', serverBig, big]] as const) {
        const contexts: BrowserContext[] = [];
        const pages: Page[] = [];
        for (let i = 0; i < STREAMS; i++) {
          const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
          const page = await context.newPage();
          await page.goto(`${server.url}/ui#/nodes`);
          contexts.push(context);
          pages.push(page);
        }
        await Promise.all(pages.map((p) => p.waitForSelector('.conn[data-connection="live"]')));
        await Promise.all(pages.map((p) => p.waitForFunction((n) => document.querySelectorAll('[data-node]').length === n, state.nodes.length)));
        const target = state.nodes[0].name;
        const delays: number[] = [];
        const firsts: number[] = [];
        for (let round = 0; round < ROUNDS; round++) {
          const want = !state.nodes[0].cordoned;
          const seen = pages.map((p) => p.evaluate(({ target, want }) => new Promise<number>((resolve) => {
            const has = () => !!document.querySelector(`[data-node="${target}"] .badge.tone-warn`) === want;
            if (has()) { resolve(Date.now()); return; }
            const observer = new MutationObserver(() => { if (has()) { observer.disconnect(); resolve(Date.now()); } });
            observer.observe(document.body, { subtree: true, childList: true, characterData: true });
          }), { target, want }));
          await new Promise((r) => setTimeout(r, 300));
          const t0 = Date.now();
          server.cordon(target);
          const times = (await Promise.all(seen)).map((t) => t - t0);
          delays.push(...times);
          firsts.push(Math.min(...times));
          await new Promise((r) => setTimeout(r, 500));
        }
        say(`Change → page (a cordon; ${label} state, ${STREAMS} pages open, each its own stream; ${ROUNDS} changes): first page ${ms(median(firsts))} (median), every page: median ${ms(median(delays))}, p95 ${ms(pct(delays, 95))}, worst ${ms(Math.max(...delays))}.`);
        say();
        await Promise.all(contexts.map((c) => c.close()));
      }
    } finally {
      await serverSmall.close();
      await serverBig.close();
    }
  } finally {
    await browser.close();
  }
  if (process.env.BENCH_UI_OUT) await fs.writeFile(process.env.BENCH_UI_OUT, `${lines.join('\n')}\n`);
}

main().catch((e) => { console.error(e); process.exit(1); });

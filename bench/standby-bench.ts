import { ChildProcess, execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import * as http from 'node:http';
import * as os from 'node:os';
import * as path from 'node:path';
import { startPostgres } from '../test/support/postgres';
import { freePort } from './support/daemon-process';
import { ensureDocker } from './support/ensure-docker';
import { median } from './support/stats';

/**
 * `npm run bench:standby`: how fresh a standby is. Two `ecoware-executor start` processes on a
 * private PostgreSQL server (scripts/ensure-postgres.sh) and the engine at DOCKER_HOST (reused, or
 * started by scripts/ensure-docker.sh); BENCH_STANDBY_PLANS plans (default 20) applied through the
 * leader, each resizing one container. For each plan:
 *
 * - events: from the leader's `/api/events` sending `execution … succeeded` to the standby's
 *   `/api/events` sending the same event with the same id (both read by this process, one clock);
 * - view: from that event on the leader to the standby's `GET /api/allocation` answering what the
 *   leader's does (polled every 10 ms).
 */
const PLANS = Number(process.env.BENCH_STANDBY_PLANS ?? 20);
const ROOT = path.join(__dirname, '..', '..');
const CLI = path.join(ROOT, 'dist', 'cli.js');
const APP = `bstby${process.pid}`;

async function call(url: string, method: string, body?: unknown): Promise<{ status: number; body: any }> {
  const res = await fetch(url, { method, headers: body === undefined ? {} : { 'content-type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body) });
  return { status: res.status, body: await res.json().catch(() => undefined) };
}

async function until<T>(probe: () => Promise<T | undefined>, timeoutMs: number, everyMs = 100): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe().catch(() => undefined);
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/** When each `execution` event was received, by `<execution id> <status>`, with its SSE id. */
function follow(url: string): { seen: Map<string, { at: number; id: string }>; stop: () => void } {
  const seen = new Map<string, { at: number; id: string }>();
  let buffer = '';
  const req = http.get(`${url}/api/events?type=execution`, (res) => {
    res.setEncoding('utf8');
    res.on('data', (chunk: string) => {
      const at = performance.now();
      buffer += chunk;
      let end: number;
      while ((end = buffer.indexOf('\n\n')) >= 0) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        const id = /^id: (.+)$/m.exec(block)?.[1];
        const data = /^data: (.+)$/m.exec(block)?.[1];
        if (!id || !data || !/^event: execution$/m.test(block)) continue;
        const event = JSON.parse(data) as { id: string; status: string };
        seen.set(`${event.id} ${event.status}`, { at, id });
      }
    });
  });
  req.on('error', () => undefined);
  return { seen, stop: () => req.destroy() };
}

async function main(): Promise<void> {
  ensureDocker(ROOT);
  const docker = process.env.DOCKER_HOST ?? 'unix:///var/run/docker.sock';
  const dir = mkdtempSync(path.join(os.tmpdir(), 'ecoware-standby-bench-'));
  const postgres = await startPostgres();
  const url = postgres.url;
  const children: ChildProcess[] = [];
  const start = async (name: string) => {
    const port = await freePort();
    const base = `http://127.0.0.1:${port}`;
    children.push(spawn(process.execPath, [CLI, 'start', '--port', String(port), '--state-dir', path.join(dir, name), '--database-url', url,
      '--advertise-url', base, '--log-level', 'warn'], { env: { ...process.env, DOCKER_HOST: docker }, stdio: 'ignore' }));
    return base;
  };
  try {
    const leader = await start('a');
    await until(async () => ((await call(`${leader}/api/leader`, 'GET')).body?.self === 'leader' ? true : undefined), 60_000);
    const standby = await start('b');
    await until(async () => ((await call(`${standby}/api/leader`, 'GET')).body?.self === 'standby' ? true : undefined), 60_000);
    const topology = {
      infrastructure: { cloud_driver: { type: 'static', nodes: [{ name: 'node1', docker }] }, cpu_cores: 1, mem_units: 8, mem_unit_mb: 16 },
      apps: [{ name: APP, tiers: { db: { docker_image: process.env.ECOWARE_TEST_IMAGE ?? 'ecoware/busybox:latest' } } }],
    };
    if ((await call(`${leader}/api/topology`, 'PUT', topology)).status !== 200) throw new Error('the topology was refused');
    const onLeader = follow(leader);
    const onStandby = follow(standby);
    await new Promise((r) => setTimeout(r, 500));
    const events: number[] = [];
    const views: number[] = [];
    for (let i = 0; i < PLANS; i++) {
      const applied = await call(`${leader}/api/execute`, 'PUT', { [APP]: { db: { cpu_cores: 1, mem_units: 2 + (i % 3) } } });
      if (applied.body?.status !== 'succeeded') throw new Error(`plan ${i} did not succeed: ${JSON.stringify(applied.body)}`);
      const key = `${applied.body.execution_id} succeeded`;
      const sent = await until(async () => onLeader.seen.get(key), 10_000, 5);
      const allocation = JSON.stringify((await call(`${leader}/api/allocation`, 'GET')).body);
      const shown = await until(async () => (JSON.stringify((await call(`${standby}/api/allocation`, 'GET')).body) === allocation ? performance.now() : undefined), 60_000, 10);
      const heard = await until(async () => onStandby.seen.get(key), 10_000, 5);
      if (heard.id !== sent.id) throw new Error(`the standby sent ${heard.id} for the leader's ${sent.id}`);
      events.push(heard.at - sent.at);
      views.push(shown - sent.at);
    }
    onLeader.stop();
    onStandby.stop();
    const line = (xs: number[]) => `median ${median(xs).toFixed(1)} ms, max ${Math.max(...xs).toFixed(1)} ms (n=${xs.length})`;
    console.log(`a standby's /api/events after the leader's (execution succeeded, same id): ${line(events)}`);
    console.log(`a standby's /api/allocation equal to the leader's, after its event: ${line(views)}`);
  } finally {
    for (const child of children) child.kill('SIGTERM');
    await Promise.all(children.map((c) => (c.exitCode !== null ? undefined : new Promise((r) => c.once('exit', r)))));
    try {
      execFileSync('sh', ['-c', `ids=$(docker ps -aq --filter label=io.ecoware.app=${APP}); [ -z "$ids" ] || docker rm -f $ids`], { env: { ...process.env, DOCKER_HOST: docker }, stdio: 'ignore' });
    } catch {
      console.error(`could not remove the containers labelled io.ecoware.app=${APP}`);
    }
    await postgres.remove();
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});

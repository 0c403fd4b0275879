import { ChildProcess, spawn } from 'child_process';
import { promises as fs } from 'fs';
import * as os from 'os';
import * as path from 'path';
import { Client } from 'pg';
import request from 'supertest';
import { LABEL_APP, LABEL_EPOCH } from '../../src/drivers/docker/labels';
import { engine, freePort, inspectContainer, removeContainersByLabel, testDockerEndpoint, testImage } from '../support/docker';
import { EngineProxy } from '../support/engine-proxy';
import { freshDatabase, startPostgres, TestPostgres } from '../support/postgres';
import { waitUntil } from '../support/wait-for';

/**
 * Three `ecoware-executor start` processes on one PostgreSQL database and one real engine, reached
 * through a proxy that tells which daemon made each engine call (test/support/engine-proxy.ts).
 * What is asserted holds whether a daemon that lost its lease exits or stands by.
 */
const CLI = path.join(__dirname, '..', '..', 'dist', 'cli.js');
const APP = `ha${process.pid}`;
const TIER = `${APP}_db`;
const LEASE_S = 3;
const MEM_UNIT_MB = 16;
const TERMINAL = ['succeeded', 'failed', 'cancelled', 'superseded'];

interface Daemon {
  name: string;
  url: string;
  child: ChildProcess;
  exited: Promise<number | null>;
}

interface ExecutionRecord {
  id: string;
  kind: string;
  status: string;
  epoch?: number;
  error?: { code: string };
  steps: { action: { type: string }; status: string; started_at?: string }[][];
}

describe('three daemons on PostgreSQL and a real engine', () => {
  let pg: TestPostgres;
  let root: string;
  let proxy: EngineProxy;
  let databaseUrl = '';
  let n = 0;
  const daemons: Daemon[] = [];

  beforeAll(async () => {
    await removeContainersByLabel(LABEL_APP, APP);
    pg = await startPostgres();
    root = await fs.mkdtemp(path.join(os.tmpdir(), 'ecoware-ha-'));
    proxy = new EngineProxy(testDockerEndpoint().url, () => daemons.map((d) => d.child.pid!).filter(Boolean));
    await proxy.start();
  }, 60_000);
  beforeEach(async () => {
    databaseUrl = await freshDatabase(pg, `ha_${++n}`);
    proxy.delayMs = 0;
  });
  afterEach(async () => {
    for (const d of daemons.splice(0)) {
      if (d.child.exitCode !== null || d.child.signalCode !== null) continue;
      d.child.kill('SIGCONT');
      d.child.kill('SIGKILL');
      await d.exited;
    }
    await removeContainersByLabel(LABEL_APP, APP);
  }, 60_000);
  afterAll(async () => {
    await proxy?.stop();
    await pg?.remove();
    await fs.rm(root, { recursive: true, force: true });
  }, 60_000);

  const start = async (name: string): Promise<Daemon> => {
    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    const child = spawn(process.execPath, [CLI, 'start', '--port', String(port), '--state-dir', path.join(root, `${n}-${name}`), '--database-url', databaseUrl,
      '--advertise-url', url, '--lease-s', String(LEASE_S), '--log-level', 'error', '--solver-time-limit-ms', '5000'],
    { env: { ...process.env, DOCKER_HOST: proxy.url }, stdio: ['ignore', 'ignore', 'inherit'] });
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    const daemon = { name, url, child, exited };
    daemons.push(daemon);
    await waitUntil(`${name} to answer /livez`, async () => ((await request(url).get('/livez')).status === 200 ? true : undefined), 30_000, { ignoreErrors: true });
    return daemon;
  };
  const alive = (d: Daemon) => d.child.exitCode === null && d.child.signalCode === null;
  const role = async (d: Daemon): Promise<{ self: string; leader: { epoch: number; url: string } | null } | undefined> => {
    if (!alive(d)) return undefined;
    const res = await request(d.url).get('/api/leader').timeout(2_000);
    return res.status === 200 ? res.body : undefined;
  };
  /** The one daemon among `among` that answers as the leader and is ready. */
  const leaderAmong = (among: Daemon[], timeoutMs = 30_000) => waitUntil('a leader', async () => {
    for (const d of among) {
      const r = await role(d).catch(() => undefined);
      if (r?.self === 'leader' && (await request(d.url).get('/readyz')).status === 200) return { daemon: d, epoch: r.leader!.epoch };
    }
    return undefined;
  }, timeoutMs);
  /** Three daemons; the first leads. */
  const threeDaemons = async () => {
    const a = await start('a');
    const { epoch } = await leaderAmong([a]);
    const others = [await start('b'), await start('c')];
    // Past opening the database (its port answers before): they stand by.
    for (const d of others) await waitUntil(`${d.name} to stand by`, async () => ((await role(d))?.self === 'standby' ? true : undefined), 30_000, { ignoreErrors: true });
    return { a, others, epoch };
  };
  const topology = () => ({
    infrastructure: { cloud_driver: { type: 'static', nodes: [{ name: 'node1', docker: proxy.url }] }, cpu_cores: 2, mem_units: 8, mem_unit_mb: MEM_UNIT_MB },
    apps: [{ name: APP, tiers: { db: { docker_image: testImage() } } }],
  });
  const plan = (memUnits: number) => ({ [APP]: { db: { cpu_cores: 1, mem_units: memUnits } } });
  const record = async (d: Daemon, id: string): Promise<ExecutionRecord> => (await request(d.url).get(`/api/executions/${id}`)).body;
  const deploy = async (d: Daemon) => {
    const put = await request(d.url).put('/api/topology').send(topology());
    expect({ status: put.status, body: put.status === 200 ? undefined : put.body }).toEqual({ status: 200, body: undefined });
    const applied = await request(d.url).put('/api/execute').send(plan(1));
    expect({ status: applied.status, error: applied.body.error }).toMatchObject({ status: 200 });
  };
  const runningOn = (d: Daemon) => waitUntil('an execution to run', async () => {
    const res = await request(d.url).get('/api/executions?status=running');
    return res.status === 200 ? (res.body.objects as { id: string }[])[0]?.id : undefined;
  }, 30_000);

  /** Container create and update events of the tier's container on the engine since `since` (ms). */
  const engineEvents = async (since: number): Promise<{ action: string; at: number }[]> => {
    const stream = await engine().getEvents({ since: Math.floor(since / 1000) - 1, until: Math.ceil(Date.now() / 1000) + 1, filters: JSON.stringify({ type: ['container'], container: [TIER] }) });
    let text = '';
    for await (const chunk of stream as AsyncIterable<Buffer>) text += chunk.toString();
    return text.split('\n').filter(Boolean).map((line) => JSON.parse(line) as { Action: string; timeNano: number })
      .filter((e) => e.timeNano / 1e6 >= since && (e.Action === 'create' || e.Action === 'update')).map((e) => ({ action: e.Action, at: e.timeNano / 1e6 }));
  };

  it('a kill -9 of the leader mid-execution: a standby leads in time, nothing is lost, nothing runs twice, the engine agrees', async () => {
    const testStart = Date.now();
    const { a, others, epoch: epochA } = await threeDaemons();
    await deploy(a);

    // A stream of plans, each a resize of the one container, kept apart (no coalescing).
    const accepted: string[] = [];
    let stopped = false;
    let units = 1;
    const stream = (async () => {
      while (!stopped) {
        units = (units % 4) + 1;
        const res = await request(a.url).put('/api/execute?wait=false&coalesce=false').send(plan(units)).catch(() => undefined);
        if (res?.status === 202) accepted.push(res.body.execution_id);
        await new Promise((r) => setTimeout(r, 100));
      }
    })();
    await waitUntil('plans to be accepted and run', async () => (accepted.length >= 6 ? true : undefined), 30_000);
    // Slow engine calls, so that an execution is surely half-way when the leader dies: killed while
    // one of its actions waits on the engine.
    proxy.delayMs = 2_000;
    const running = await waitUntil('an action waiting on the engine', async () => {
      const id = await runningOn(a);
      const steps = (await record(a, id)).steps.flat() as { status: string }[];
      return steps.some((step) => step.status === 'running') ? id : undefined;
    }, 30_000);
    a.child.kill('SIGKILL');
    const killedAt = Date.now();
    stopped = true;
    await stream;
    proxy.delayMs = 0;
    await a.exited;

    const { daemon: b, epoch: epochB } = await leaderAmong(others, 30_000);
    const tookOverMs = Date.now() - killedAt;
    // Within lease_s + 2 s (bench:failover measures it); a generous margin on a shared machine.
    expect(tookOverMs).toBeLessThan((LEASE_S + 2) * 1000 + 8_000);
    expect(epochB).toBeGreaterThan(epochA);

    // Queued work goes on with the new leader.
    for (const u of [3, 1]) {
      const res = await request(b.url).put('/api/execute?wait=false&coalesce=false').send(plan(u));
      expect(res.status).toBe(202);
      accepted.push(res.body.execution_id);
    }
    const records = await waitUntil('every accepted execution to finish', async () => {
      const all = await Promise.all(accepted.map((id) => record(b, id)));
      return all.every((r) => TERMINAL.includes(r.status)) ? all : undefined;
    }, 90_000);

    // Nothing lost: every accepted id is in the record, finished; the one that ran at the kill is interrupted, and a's.
    expect(records.map((r) => r.id)).toEqual(accepted);
    const interrupted = records.find((r) => r.id === running)!;
    expect(interrupted).toMatchObject({ status: 'failed', error: { code: 'interrupted' }, epoch: epochA });
    // Only the one that ran at the kill is interrupted: the plans queued behind it went on with the new leader, in order.
    expect(records.filter((r) => r.status !== 'succeeded').map((r) => r.id)).toEqual([running]);
    for (const r of records) {
      expect(r.status === 'succeeded' || r.error?.code === 'interrupted').toBe(true);
      expect([epochA, epochB]).toContain(r.epoch);
    }
    expect(records.slice(-2).map((r) => [r.status, r.epoch])).toEqual([['succeeded', epochB], ['succeeded', epochB]]);

    // Nothing ran twice: the engine saw one create and exactly one update per resize the records
    // say succeeded, plus at most the interrupted one's, if it had reached the engine.
    const listed = (await request(b.url).get('/api/executions?limit=500')).body.objects as { id: string }[];
    const all = await Promise.all(listed.map((e) => record(b, e.id)));
    const resizes = all.flatMap((r) => r.steps.flat().filter((s) => s.action.type === 'update_container' && s.status === 'succeeded'));
    const creates = all.flatMap((r) => r.steps.flat().filter((s) => s.action.type === 'create_container' && s.status === 'succeeded'));
    const events = await engineEvents(testStart);
    expect([events.filter((e) => e.action === 'create').length, creates.length]).toEqual([1, 1]);
    const extra = events.filter((e) => e.action === 'update').length - resizes.length;
    const interruptedStarted = interrupted.steps.flat().some((s) => s.action.type === 'update_container' && s.started_at !== undefined);
    expect(extra === 0 || (extra === 1 && interruptedStarted)).toBe(true);

    // The engine agrees with the record: the allocation the leader reports is what docker inspect says.
    const used = (await request(b.url).get('/api/allocation')).body.node1.used[TIER];
    const lastPlan = [...all].reverse().find((r) => r.kind === 'plan' && r.status === 'succeeded')!;
    const container = (await inspectContainer(TIER))!;
    expect(container.State.Running).toBe(true);
    expect(container.HostConfig.Memory).toBe(used.mem_units * MEM_UNIT_MB * 2 ** 20);
    expect((container.HostConfig.CpusetCpus ?? '').split(',')).toHaveLength(used.cpu_cores);
    expect((await record(b, lastPlan.id)).steps.flat().every((s) => s.status === 'succeeded')).toBe(true);
    expect(used).toEqual({ cpu_cores: 1, mem_units: 1 });
    // The container was made by the first leader, and says so.
    expect(container.Config.Labels[LABEL_EPOCH]).toBe(String(epochA));
  });

  it('a leader paused past its lease makes no engine call and writes nothing once resumed', async () => {
    const { a, others, epoch: epochA } = await threeDaemons();
    await deploy(a);
    expect(proxy.requestsFrom(a.child.pid!).length).toBeGreaterThan(0);
    // Paused half-way through an execution, with more to do when it resumes.
    proxy.delayMs = 800;
    expect((await request(a.url).put('/api/execute?wait=false&coalesce=false').send(plan(2))).status).toBe(202);
    expect((await request(a.url).put('/api/execute?wait=false&coalesce=false').send(plan(3))).status).toBe(202);
    const running = await runningOn(a);
    a.child.kill('SIGSTOP');
    proxy.delayMs = 0;
    const { daemon: b, epoch: epochB } = await leaderAmong(others, 30_000);
    expect(epochB).toBeGreaterThan(epochA);
    await waitUntil('the new leader to mark the paused one\'s execution', async () => ((await record(b, running)).status === 'failed' ? true : undefined), 30_000);
    // Give any in-flight engine request of a time to arrive before the count starts.
    await new Promise((r) => setTimeout(r, 1_500));

    const db = new Client({ connectionString: databaseUrl });
    await db.connect();
    const snapshot = async () => ({
      executions: (await db.query('SELECT id, status, epoch, record FROM executions WHERE epoch IS NULL OR epoch <= $1 ORDER BY id', [epochA])).rows,
      actions: (await db.query('SELECT a.execution_id, a.layer, a.idx, a.record FROM execution_actions a JOIN executions e ON e.id = a.execution_id WHERE e.epoch IS NULL OR e.epoch <= $1 ORDER BY 1, 2, 3', [epochA])).rows,
      topologies: (await db.query('SELECT version, document FROM topologies ORDER BY version')).rows,
      systems: (await db.query('SELECT count(*)::int AS n FROM systems')).rows,
      cordons: (await db.query('SELECT count(*)::int AS n FROM cordons')).rows,
      lease: (await db.query("SELECT holder, epoch::int FROM lease WHERE name = 'leader'")).rows,
    });
    try {
      const before = await snapshot();
      expect(before.executions.some((e) => e.id === running && e.status === 'failed')).toBe(true);
      const resumedAt = Date.now();
      a.child.kill('SIGCONT');
      // It finds out it no longer leads: it exits, or answers as a standby.
      await waitUntil('the resumed daemon to step down', async () => {
        if (!alive(a)) return true;
        return (await role(a))?.self === 'standby' ? true : undefined;
      }, 30_000, { ignoreErrors: true });
      await new Promise((r) => setTimeout(r, 3_000));

      // Counted on the engine's side: not one request from it since it resumed. It stands by now, and
      // a standby reads the engines only when someone reads the fleet from it (nobody does here).
      expect(proxy.requestsFrom(a.child.pid!, resumedAt)).toEqual([]);
      expect((await role(a).catch(() => undefined))?.self ?? 'exited').not.toBe('leader');
      // And the new leader's calls were counted as its own (the proxy tells them apart).
      expect(proxy.requestsFrom(b.child.pid!).length).toBeGreaterThan(0);
      // No write of it landed: what it could have written is as it was.
      expect(await snapshot()).toEqual(before);
      expect((await record(b, running))).toMatchObject({ status: 'failed', error: { code: 'interrupted' }, epoch: epochA });
    } finally {
      await db.end();
    }
  });

  it('the database restarted under three daemons: they reconnect and one leads', async () => {
    const { others } = await threeDaemons();
    const all = [daemons[0], ...others];
    await pg.stop();
    await new Promise((r) => setTimeout(r, 2_500));
    await pg.start();
    const { daemon: leader } = await leaderAmong(all.filter(alive), 60_000);
    // Several renewal periods later there is exactly one leader among those still running.
    await new Promise((r) => setTimeout(r, 3_000));
    const roles = await Promise.all(all.filter(alive).map(async (d) => (await role(d).catch(() => undefined))?.self));
    expect(roles.filter((r) => r === 'leader')).toHaveLength(1);
    expect((await role(leader))?.self).toBe('leader');
    // It acts: a topology and a plan go through.
    await deploy(leader);
    expect((await inspectContainer(TIER))?.State.Running).toBe(true);
  });
});

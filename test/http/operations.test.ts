import { ChildProcess, spawn } from 'child_process';
import { promises as fs } from 'fs';
import * as http from 'http';
import * as os from 'os';
import * as path from 'path';
import request from 'supertest';
import { openSqliteState } from '../../src/drivers/sqlite/sqlite-state';
import { LABEL_APP } from '../../src/drivers/docker/labels';
import { GitFixture } from '../support/git-fixture';
import { waitFor } from '../support/wait-for';
import { engine, removeContainersByLabel, testDockerEndpoint, testImage } from '../support/docker';

/**
 * The daemon as operators run it: a real process (dist/cli.js) with a tokens file, a real engine,
 * a real SQLite file. Killed with -9 at random moments of executions; stopped with SIGTERM in the
 * middle of one; a second daemon refused on the same state dir; metrics and the event stream read
 * by a client after plans.
 */
const APP = `ops${process.pid}`;
const ADMIN = 'ops-admin-token-0123456789';
const READ = 'ops-read-token-0123456789';

interface Running { child: ChildProcess; url: string; output: () => string }

function startProcess(stateDir: string, tokensFile: string, extra: string[] = []): Promise<Running> {
  const child = spawn(process.execPath, [path.join(__dirname, '../../dist/cli.js'), 'start', '--port', '0', '--state-dir', stateDir, '--tokens-file', tokensFile, ...extra], {
    env: { ...process.env, DOCKER_HOST: testDockerEndpoint().url, ECOWARE_LOG_LEVEL: 'info' }, stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (d) => { out += d; });
  child.stderr!.on('data', (d) => { out += d; });
  return new Promise((resolve, reject) => {
    const onData = () => { const m = /listening on (http:\/\/\S+)/.exec(out); if (m) resolve({ child, url: m[1], output: () => out }); };
    child.stdout!.on('data', onData);
    child.once('exit', (code) => reject(new Error(`daemon exited with ${code}: ${out}`)));
  });
}

const exited = (child: ChildProcess) => new Promise<number | null>((resolve) => {
  if (child.exitCode !== null || child.signalCode !== null) resolve(child.exitCode);
  else child.once('exit', (code) => resolve(code));
});

describe('operating the daemon', () => {
  let root: string;
  let stateDir: string;
  let tokensFile: string;
  let repo: GitFixture;
  let daemon: Running | undefined;
  const admin = (url: string) => ({
    get: (p: string) => request(url).get(p).set('authorization', `Bearer ${ADMIN}`),
    put: (p: string, body: unknown) => request(url).put(p).set('authorization', `Bearer ${ADMIN}`).send(body as object),
  });

  const topology = () => ({
    infrastructure: { cloud_driver: { type: 'static', nodes: [{ name: 'node1', docker: testDockerEndpoint().url }] }, hooks_git_repo: repo.dir, cpu_cores: 2, mem_units: 16, mem_unit_mb: 16 },
    apps: [{ name: APP, tiers: { db: { docker_image: testImage(), on_node_scale: 'pause.sh' }, web: { docker_image: testImage(), on_node_scale: 'pause.sh' } } }],
  });

  beforeAll(async () => {
    await removeContainersByLabel(LABEL_APP, APP);
    root = await fs.mkdtemp(path.join(os.tmpdir(), 'ecoware-ops-'));
    stateDir = path.join(root, 'state');
    tokensFile = path.join(root, 'tokens');
    await fs.writeFile(tokensFile, `admin ${ADMIN}\nread ${READ}\n`, { mode: 0o600 });
    repo = new GitFixture(root);
    repo.commit({
      'scale_hooks/pause.sh': '#!/bin/sh\necho "sized $ECOWARE_MEM_UNITS"\nsleep 0.3\n',
      'scale_hooks/slow.sh': '#!/bin/sh\necho "sized $ECOWARE_MEM_UNITS"\nsleep 3\n',
    });
    daemon = await startProcess(stateDir, tokensFile);
    const put = await admin(daemon.url).put('/api/topology', topology());
    expect(put.status).toBe(200);
  });

  afterAll(async () => {
    if (daemon && daemon.child.exitCode === null) {
      daemon.child.kill('SIGKILL');
      await exited(daemon.child);
    }
    await removeContainersByLabel(LABEL_APP, APP);
    await fs.rm(root, { recursive: true, force: true });
  });

  it('refuses a second daemon on the same state dir, naming the holder', async () => {
    const second = spawn(process.execPath, [path.join(__dirname, '../../dist/cli.js'), 'start', '--port', '0', '--state-dir', stateDir, '--tokens-file', tokensFile], { stdio: ['ignore', 'pipe', 'pipe'] });
    let err = '';
    second.stderr!.on('data', (d) => { err += d; });
    expect(await exited(second)).toBe(1);
    expect(err).toContain(`in use by ${os.hostname()}:${daemon!.child.pid} since`);
    expect((await admin(daemon!.url).get('/readyz')).status).toBe(200);
  });

  it('streams the execution of a plan to a client, and counts it in /metrics', async () => {
    const u = new URL(daemon!.url);
    const chunks: string[] = [];
    const stream = await new Promise<http.IncomingMessage>((resolve) => {
      http.get({ host: u.hostname, port: u.port, path: '/api/events', headers: { authorization: `Bearer ${READ}` } }, resolve);
    });
    expect(stream.statusCode).toBe(200);
    stream.setEncoding('utf8');
    stream.on('data', (d: string) => chunks.push(d));
    const res = await admin(daemon!.url).put('/api/execute', { [APP]: { db: { cpu_cores: 1, mem_units: 2 } } });
    expect(res.status).toBe(200);
    await new Promise((r) => setTimeout(r, 200));
    stream.destroy();
    const events = chunks.join('').split('\n\n').filter((block) => block.includes('event:')).map((block) => ({
      event: /event: (\w+)/.exec(block)![1], data: JSON.parse(/data: (.*)/.exec(block)![1]),
    }));
    const id = res.body.execution_id;
    expect(events.filter((e) => e.event === 'execution' && e.data.id === id).map((e) => e.data.status)).toEqual(['queued', 'running', 'succeeded']);
    expect(events.filter((e) => e.event === 'action' && e.data.execution_id === id).map((e) => e.data.status)).toEqual(['running', 'succeeded']);

    const metrics = await request(daemon!.url).get('/metrics').set('authorization', `Bearer ${READ}`);
    expect(metrics.status).toBe(200);
    expect(metrics.headers['content-type']).toMatch(/^text\/plain; version=0\.0\.4/);
    const samples = new Map<string, number>();
    for (const line of metrics.text.split('\n')) {
      const m = /^([a-z_]+(?:\{[^}]*\})?) (\S+)$/.exec(line);
      if (m) samples.set(m[1], Number(m[2]));
    }
    expect(samples.get('ecoware_executions_total{status="succeeded",kind="plan"}')).toBe(1);
    expect(samples.get('ecoware_action_duration_seconds_count{type="create_container",status="succeeded"}')).toBe(1);
    expect(samples.get('ecoware_solver_duration_seconds_count')).toBeGreaterThanOrEqual(1);
    expect(samples.get('ecoware_queue_depth')).toBe(0);
    expect(samples.get('ecoware_nodes{health="ready"}')).toBe(1);
    expect(samples.get('ecoware_nodes{health="lost"}')).toBe(0);
    expect(samples.get('process_resident_memory_bytes')).toBeGreaterThan(0);
    expect(metrics.text).toContain('# TYPE ecoware_drift_repairs_total counter');
    // The JSON log names the request and the execution.
    expect(daemon!.output()).toMatch(new RegExp(`"request_id":"[^"]+".*"path":"/api/execute"`));
  });

  it('loses no finished record and leaves none running after kill -9 at random moments', async () => {
    let memUnits = 2;
    for (let round = 0; round < 4; round++) {
      const url = daemon!.url;
      const before = (await admin(url).get('/api/executions?limit=1000')).body.objects as { id: string; status: string }[];
      memUnits = memUnits === 2 ? 3 : 2;
      const submitted = await admin(url).put('/api/execute?wait=false', { [APP]: { db: { cpu_cores: 1, mem_units: memUnits }, web: { cpu_cores: 1, mem_units: memUnits } } });
      expect(submitted.status).toBe(202);
      await new Promise((r) => setTimeout(r, Math.floor(Math.random() * 1200)));
      daemon!.child.kill('SIGKILL');
      await exited(daemon!.child);

      daemon = await startProcess(stateDir, tokensFile);
      const after = (await admin(daemon.url).get('/api/executions?limit=1000')).body.objects as { id: string; status: string }[];
      expect(after.filter((e) => e.status === 'running' || e.status === 'queued')).toEqual([]);
      // Every record finished before the kill is there, unchanged.
      const finishedBefore = before.filter((e) => e.status !== 'running' && e.status !== 'queued');
      expect(after.filter((e) => finishedBefore.some((b) => b.id === e.id)).map((e) => [e.id, e.status])).toEqual(finishedBefore.map((e) => [e.id, e.status]));
      // What the record says ran, ran: a container action recorded succeeded is on the engine.
      const record = (await admin(daemon.url).get(`/api/executions/${submitted.body.execution_id}`)).body;
      for (const action of record.steps.flat()) {
        if (action.status === 'succeeded' && action.action.type !== 'run_tier_hooks') {
          const c = await engine().getContainer(action.action.tier).inspect();
          expect(c.HostConfig.Memory).toBe(action.action.resources.mem_units * 16 * 1024 * 1024);
        }
        expect(['succeeded', 'failed', 'skipped', 'cancelled']).toContain(action.status);
        // An action the record says never ran did not change the engine either.
        if (action.status === 'skipped' && action.action.resources) {
          const c = await engine().getContainer(action.action.tier).inspect().catch(() => undefined);
          if (c) expect(c.HostConfig.Memory).not.toBe(action.action.resources.mem_units * 16 * 1024 * 1024);
        }
        if (action.status === 'failed' && record.error?.code === 'interrupted') expect(action).toMatchObject({ error_code: 'interrupted', error: expect.stringMatching(/^interrupted/) });
      }
    }
  });

  it('on SIGTERM takes no more plans, lets the running execution finish, and exits 0', async () => {
    const url = daemon!.url;
    const slow = topology();
    slow.apps[0].tiers.db.on_node_scale = 'slow.sh';
    expect((await admin(url).put('/api/topology', slow)).status).toBe(200);
    const submitted = await admin(url).put('/api/execute?wait=false', { [APP]: { db: { cpu_cores: 1, mem_units: 4 }, web: { cpu_cores: 1, mem_units: 4 } } });
    await waitFor(() => admin(url).get(`/api/executions/${submitted.body.execution_id}`).then((r) => r.body), (e) => e.status === 'running', 30_000, 50);
    daemon!.child.kill('SIGTERM');
    // The port stays open while the execution finishes: plans get 503, probes see not ready.
    const refused = await waitFor(() => admin(url).put('/api/execute?wait=false', { [APP]: { db: { cpu_cores: 1, mem_units: 5 } } }).catch(() => ({ status: 0, body: {} })), (r) => r.status === 503, 5000, 50);
    if (refused.status !== 503) console.log(daemon!.output().slice(-4000));
    expect(refused.status).toBe(503);
    expect(refused.body).toMatchObject({ code: 'shutting_down' });
    expect((await request(url).get('/readyz')).status).toBe(503);
    expect(await exited(daemon!.child)).toBe(0);

    const state = await openSqliteState(stateDir);
    try {
      const record = await state.executions.get(submitted.body.execution_id);
      if (record?.status !== 'succeeded') console.log(JSON.stringify(record).slice(0, 2500));
      expect(record?.status).toBe('succeeded');
      expect((await state.executions.list({ limit: 1000, offset: 0, filter: { status: ['running', 'queued'] } })).total).toBe(0);
    } finally {
      state.close();
    }
  });
});

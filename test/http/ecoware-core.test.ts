import { promises as fs } from 'fs';
import * as os from 'os';
import * as path from 'path';
import { Daemon, startDaemon } from '../../src/main';
import { LABEL_APP } from '../../src/drivers/docker/labels';
import { engine, removeContainersByLabel, testDockerEndpoint, testImage } from '../support/docker';

/**
 * The daemon as the ecoware-core planner uses it, over real HTTP against the real engine: its call
 * sequence on POST /api/executor with `<app>-<tier>` names, its probe on GET /api/executor/inspect,
 * bursts of plans behind a slow hook (coalesced), and plans applied in the order they arrive.
 */
const APP = 'pwitter';
const MIB = 1024 * 1024;
const MEM_UNIT_MB = 16;

const topology = {
  infrastructure: {
    cloud_driver: { type: 'static', nodes: [{ name: 'node1', docker: testDockerEndpoint().url }] },
    cpu_cores: 2, mem_units: 16, mem_unit_mb: MEM_UNIT_MB,
  },
  apps: [{
    name: APP,
    tiers: {
      web: { docker_image: testImage() },
      db: { docker_image: testImage(), max_node: 1 },
      // Slower than the planner's control period: plans pile up behind it.
      worker: { docker_image: testImage(), on_node_scale: { exec: '/bin/sleep', argv: ['3'] } },
    },
  }],
};

describe('ecoware-core compatibility against a real engine', () => {
  let stateDir: string;
  let daemon: Daemon;
  const call = async (method: string, route: string, body?: string) => {
    const res = await fetch(`${daemon.url}${route}`, { method, body, headers: body === undefined ? {} : { 'content-type': 'application/json' } });
    return { status: res.status, body: await res.json() as any };
  };
  const executor = (raw: string, query = '') => call('POST', `/api/executor${query}`, raw);
  const probe = async () => (await call('GET', '/api/executor/inspect')).body as Record<string, { CpusetCpus: string; Memory: number }>;
  const waitFinished = async (id: string) => {
    for (;;) {
      const { body } = await call('GET', `/api/executions/${id}`);
      if (['succeeded', 'failed', 'cancelled', 'superseded'].includes(body.status)) return body;
      await new Promise((r) => setTimeout(r, 100));
    }
  };
  const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

  beforeAll(async () => {
    await removeContainersByLabel(LABEL_APP, APP);
    stateDir = await fs.mkdtemp(path.join(os.tmpdir(), 'ecoware-core-'));
    daemon = await startDaemon({ port: 0, stateDir, localDocker: testDockerEndpoint().url, solverTimeLimitMs: 5000 });
    expect((await call('PUT', '/api/topology', JSON.stringify(topology))).status).toBe(200);
  });

  afterAll(async () => {
    await daemon?.close();
    await removeContainersByLabel(LABEL_APP, APP);
    await fs.rm(stateDir, { recursive: true, force: true });
  });

  it("follows the planner's call sequence: initial allocation, doubles, partial plans, {}, zero plans", async () => {
    // The initial allocation, with the doubles the planner's JSON library writes.
    const initial = await executor('{"pwitter-web": {"cpu_cores": 1.0, "mem_units": 2.0}, "pwitter-db": {"cpu_cores": 1.0, "mem_units": 4.0}}');
    expect(initial.status).toBe(200);
    expect(initial.body.status).toBe('succeeded');
    let seen = await probe();
    // Every name the planner may use for a tier, each in the probe's shape.
    expect(Object.keys(seen).sort()).toEqual(['db', 'pwitter-db', 'pwitter-web', 'pwitter_db', 'pwitter_web', 'web']);
    expect(seen['pwitter-web']).toEqual(seen.pwitter_web);
    expect(seen.web).toEqual(seen.pwitter_web);
    expect(seen['pwitter-web'].Memory).toBe(2 * MEM_UNIT_MB * MIB);
    expect(seen['pwitter-db'].Memory).toBe(4 * MEM_UNIT_MB * MIB);
    expect(seen['pwitter-web'].CpusetCpus).toMatch(/^\d+$/);
    expect(seen['pwitter-db'].CpusetCpus).not.toBe(seen['pwitter-web'].CpusetCpus);
    // What the engine itself says, independently of the daemon.
    const web = await engine().getContainer(`${APP}_web`).inspect();
    expect(seen['pwitter-web']).toEqual({ CpusetCpus: web.HostConfig.CpusetCpus, Memory: web.HostConfig.Memory });

    // A partial plan: the tier it leaves out keeps what it has.
    expect((await executor('{"pwitter-web": {"cpu_cores": 1.0, "mem_units": 3.0}}')).body.status).toBe('succeeded');
    seen = await probe();
    expect(seen['pwitter-web'].Memory).toBe(3 * MEM_UNIT_MB * MIB);
    expect(seen['pwitter-db'].Memory).toBe(4 * MEM_UNIT_MB * MIB);

    // {} changes nothing.
    const nothing = await executor('{}');
    expect(nothing.status).toBe(200);
    expect(nothing.body.actions).toEqual([]);

    // A zero plan removes the tier: the probe no longer lists it under any name.
    expect((await executor('{"pwitter-db": {"cpu_cores": 0.0, "mem_units": 0.0}}')).body.status).toBe('succeeded');
    seen = await probe();
    expect(Object.keys(seen).sort()).toEqual(['pwitter-web', 'pwitter_web', 'web']);
  });

  it('refuses names and values it cannot honour, naming them, and changes nothing', async () => {
    const before = await probe();
    const unknown = await executor('{"pwitter-cache": {"cpu_cores": 1, "mem_units": 1}}');
    expect(unknown.status).toBe(400);
    expect(unknown.body.error).toContain("unknown tier 'pwitter-cache'");
    const fractional = await executor('{"pwitter-web": {"cpu_cores": 1.5, "mem_units": 2}}');
    expect(fractional.status).toBe(400);
    expect(fractional.body.error).toContain('pwitter-web.cpu_cores');
    expect(await probe()).toEqual(before);
  });

  it('answers every client of a burst behind a slow hook, applying only the newest plan after the running one', async () => {
    const running = executor('{"pwitter-worker": {"cpu_cores": 1, "mem_units": 1}}');
    // The worker's hook is running.
    let runningId: string | undefined;
    for (let i = 0; i < 100 && !runningId; i++) {
      const newest = (await call('GET', '/api/executions?limit=1')).body.objects[0];
      if (newest?.status === 'running' && newest.plan[`${APP}_worker`]) runningId = newest.id;
      else await sleep(50);
    }
    expect(runningId).toBeDefined();
    const burst: Promise<{ status: number; body: any }>[] = [];
    for (let k = 1; k <= 6; k++) {
      burst.push(executor(`{"pwitter-web": {"cpu_cores": 1, "mem_units": ${k}.0}}`));
      await sleep(30);
    }
    const [first, ...answers] = await Promise.all([running, ...burst]);
    expect(first).toMatchObject({ status: 200, body: { execution_id: runningId, status: 'succeeded' } });
    expect(answers.map((a) => a.status)).toEqual([200, 200, 200, 200, 200, 200]);
    const newest = answers[5].body.execution_id;
    expect(answers.map((a) => a.body.execution_id)).toEqual(Array(6).fill(newest));
    const record = (await call('GET', `/api/executions/${newest}`)).body;
    expect(record).toMatchObject({ status: 'succeeded', plan: { [`${APP}_web`]: { cpu_cores: 1, mem_units: 6 } } });
    expect(record.supersedes).toHaveLength(5);
    for (const id of record.supersedes) {
      expect((await call('GET', `/api/executions/${id}`)).body).toMatchObject({ status: 'superseded', steps: [] });
    }
    expect((await probe())['pwitter-web'].Memory).toBe(6 * MEM_UNIT_MB * MIB);
    // Two executions ran: the one with the hook and the newest plan.
    const list = (await call('GET', '/api/executions?limit=7')).body.objects;
    expect(list.filter((e: { status: string }) => e.status === 'succeeded').map((e: { id: string }) => e.id).sort()).toEqual([runningId, newest].sort());
  });

  it('applies plans in the order they arrive, under a burst and two milliseconds apart', async () => {
    const sent = await Promise.all(Array.from({ length: 20 }, (_, i) =>
      executor(`{"pwitter-web": {"cpu_cores": 1, "mem_units": ${1 + (i % 5)}}}`, '?wait=false&coalesce=false')));
    expect(sent.every((s) => s.status === 202)).toBe(true);
    const pairs: { a: string; b: string }[] = [];
    for (let p = 0; p < 8; p++) {
      const a = executor(`{"pwitter-web": {"cpu_cores": 1, "mem_units": ${2 + (p % 2)}}}`, '?wait=false&coalesce=false');
      await sleep(2);
      const b = executor(`{"pwitter-web": {"cpu_cores": 1, "mem_units": ${7 + (p % 2)}}}`, '?wait=false&coalesce=false');
      pairs.push({ a: (await a).body.execution_id, b: (await b).body.execution_id });
    }
    const ids = [...sent.map((s) => s.body.execution_id as string), ...pairs.flatMap((p) => [p.a, p.b])];
    const finished = await Promise.all(ids.map(waitFinished));
    expect(finished.every((e) => e.status === 'succeeded')).toBe(true);
    // The ids are given on arrival; the executions ran one after another in that order.
    const byId = [...finished].sort((x, y) => x.id.localeCompare(y.id));
    for (let i = 1; i < byId.length; i++) {
      expect(Date.parse(byId[i].started_at)).toBeGreaterThanOrEqual(Date.parse(byId[i - 1].finished_at));
    }
    for (const { a, b } of pairs) expect(b > a).toBe(true);
    // What runs is the plan that arrived last.
    const last = byId[byId.length - 1];
    expect(last.id).toBe(pairs[pairs.length - 1].b);
    expect((await probe())['pwitter-web'].Memory).toBe(last.plan[`${APP}_web`].mem_units * MEM_UNIT_MB * MIB);
  });

  it('refuses a hooks_refresh the schedule cannot run, before anything is persisted or put in force', async () => {
    const before = (await call('GET', '/api/topology')).body;
    const refused = await call('PUT', '/api/topology', JSON.stringify({ ...topology, infrastructure: { ...topology.infrastructure, hooks_refresh: '0 0 31 2 *' } }));
    expect(refused.status).toBe(400);
    expect(refused.body.field).toBe('infrastructure.hooks_refresh');
    expect((await call('GET', '/api/topology')).body).toEqual(before);
    const persisted = JSON.parse(await fs.readFile(path.join(stateDir, 'topology.json'), 'utf8').catch(() => '{}'));
    expect(persisted.infrastructure?.hooks_refresh).toBeUndefined();
  });
});

import { promises as fs } from 'fs';
import * as os from 'os';
import * as path from 'path';
import request from 'supertest';
import { Daemon, startDaemon } from '../../src/main';
import { LABEL_APP } from '../../src/drivers/docker/labels';
import { engine, removeContainersByLabel, testDockerEndpoint, testImage } from '../support/docker';

/**
 * The daemon end to end over HTTP against the real engine: every endpoint, refusals that leave
 * everything as it was, and a restart that finds its containers again. Assertions about containers
 * ask the engine directly.
 */
const APP = `api${process.pid}`;
const MEM_UNIT_MB = 32;

const topology = (overrides: Record<string, unknown> = {}) => ({
  infrastructure: {
    cloud_driver: { type: 'static', nodes: [{ name: 'node1', docker: testDockerEndpoint().url }] },
    cpu_cores: 2, mem_units: 8, mem_unit_mb: MEM_UNIT_MB,
  },
  apps: [{
    name: APP,
    tiers: {
      web: { docker_image: testImage(), depends_on: ['db'], entrypoint_params: 'sleep 100000' },
      db: { max_node: 1, docker_image: testImage(), environment: { ROLE: 'db' } },
    },
  }],
  ...overrides,
});

async function engineContainers() {
  const list = await engine().listContainers({ all: true, filters: { label: [`${LABEL_APP}=${APP}`] } });
  const inspected = await Promise.all(list.map((c) => engine().getContainer(c.Id).inspect()));
  return Object.fromEntries(inspected.map((c) => [c.Name.replace(/^\//, ''), {
    id: c.Id, cpuset: c.HostConfig.CpusetCpus, memory: c.HostConfig.Memory, swap: c.HostConfig.MemorySwap, running: c.State.Running,
  }]));
}

describe('HTTP API against a real Docker engine', () => {
  let stateDir: string;
  let daemon: Daemon;
  let api: ReturnType<typeof request>;

  beforeAll(async () => {
    await removeContainersByLabel(LABEL_APP, APP);
    stateDir = await fs.mkdtemp(path.join(os.tmpdir(), 'ecoware-api-'));
    daemon = await startDaemon({ port: 0, stateDir, localDocker: testDockerEndpoint().url, solverTimeLimitMs: 5000 });
    api = request(daemon.url);
  });

  afterAll(async () => {
    await daemon?.close();
    await removeContainersByLabel(LABEL_APP, APP);
    await fs.rm(stateDir, { recursive: true, force: true });
  });

  it('answers 409 while no topology is loaded', async () => {
    const res = await api.get('/api/allocation');
    expect(res.status).toBe(409);
    expect(res.body.error).toMatch(/no topology/);
  });

  it('loads a topology and returns it', async () => {
    const res = await api.put('/api/topology').send(topology());
    expect(res.status).toBe(200);
    expect((await api.get('/api/topology')).body.apps[0].name).toBe(APP);
    expect((await api.get('/api/allocation')).body).toEqual({ node1: expect.objectContaining({ cpu_cores: 2, mem_units: 8, used: {} }) });
  });

  it.each([
    ['a tier without an image', (t: any) => { delete t.apps[0].tiers.db.docker_image; }, /apps\[0\]\.tiers\.db\.docker_image/],
    ['a dependency on an unknown tier', (t: any) => { t.apps[0].tiers.web.depends_on = ['cache']; }, /depends_on\[0\].*'cache'/],
    ['a dependency cycle', (t: any) => { t.apps[0].tiers.db.depends_on = ['web']; }, /cycle/],
    ['duplicate app names', (t: any) => { t.apps.push(t.apps[0]); }, /duplicate app name/],
    ['an invalid name', (t: any) => { t.apps[0].name = 'bad name'; }, /apps\[0\]\.name/],
    ['a hook with a path', (t: any) => { t.apps[0].tiers.db.on_node_scale = '../evil.sh'; }, /on_node_scale/],
    ['a field of the wrong type', (t: any) => { t.infrastructure.cpu_cores = '2'; }, /infrastructure\.cpu_cores/],
    ['a negative max_node', (t: any) => { t.apps[0].tiers.db.max_node = -1; }, /max_node/],
    ['a bad port mapping', (t: any) => { t.apps[0].tiers.web.ports = ['80:http']; }, /ports\[0\]/],
  ])('refuses %s with 400 naming the field, keeping the topology', async (_what, mutate, message) => {
    const bad = JSON.parse(JSON.stringify(topology()));
    mutate(bad);
    const res = await api.put('/api/topology').send(bad);
    expect(res.status).toBe(400);
    expect(res.body.error).toMatch(message);
    expect(res.body.code).toBe('invalid');
    expect((await api.get('/api/topology')).body).toEqual(topology());
  });

  it('refuses a topology whose node cannot be reached with 422, keeping the previous one', async () => {
    const unreachable = topology({
      infrastructure: { ...topology().infrastructure, cloud_driver: { type: 'static', nodes: [{ name: 'gone', docker: 'tcp://127.0.0.1:1' }] } },
    });
    const res = await api.put('/api/topology').send(unreachable);
    expect(res.status).toBe(422);
    expect(res.body.error).toMatch(/gone|127\.0\.0\.1:1/);
    expect((await api.get('/api/topology')).body).toEqual(topology());
  });

  it('refuses malformed JSON with 400', async () => {
    const res = await api.put('/api/execute').set('content-type', 'application/json').send('{"x": ');
    expect(res.status).toBe(400);
    expect(res.body.code).toBe('invalid_json');
  });

  it('previews a plan without changing anything', async () => {
    const res = await api.put('/api/translate').send({ [APP]: { db: { cpu_cores: 1, mem_units: 2 }, web: { cpu_cores: 1, mem_units: 1 } } });
    expect(res.status).toBe(200);
    expect(res.body.actions).toEqual([
      [`create container '${APP}_db' on vm 'node1' with cpu cores=1 and mem_units=2`],
      [`create container '${APP}_web' on vm 'node1' with cpu cores=1 and mem_units=1`],
    ]);
    expect(res.body.cost).toBe(19);
    expect(res.body.steps[0][0]).toMatchObject({ type: 'create_container', vm: 'node1', tier: `${APP}_db`, cpuset: [expect.any(Number)] });
    expect(await engineContainers()).toEqual({});
  });

  it('applies a plan: containers pinned to distinct cores with memory and swap limits', async () => {
    const res = await api.put('/api/execute').send({ [APP]: { db: { cpu_cores: 1, mem_units: 2 }, web: { cpu_cores: 1, mem_units: 1 } } });
    expect(res.status).toBe(200);
    expect(res.body.status).toBe('succeeded');
    expect(res.body.allocation.node1.used).toEqual({ [`${APP}_db`]: { cpu_cores: 1, mem_units: 2 }, [`${APP}_web`]: { cpu_cores: 1, mem_units: 1 } });

    const containers = await engineContainers();
    expect(containers[`${APP}_db`]).toMatchObject({ memory: 2 * MEM_UNIT_MB * 1024 * 1024, swap: 2 * MEM_UNIT_MB * 1024 * 1024, running: true });
    expect(containers[`${APP}_web`]).toMatchObject({ memory: MEM_UNIT_MB * 1024 * 1024, running: true });
    expect([containers[`${APP}_db`].cpuset, containers[`${APP}_web`].cpuset].sort()).toEqual(['0', '1']);
  });

  it('answers a plan equal to the allocation with 200 and no actions', async () => {
    const res = await api.put('/api/execute').send({ [APP]: { db: { cpu_cores: 1, mem_units: 2 } } });
    expect(res.status).toBe(200);
    expect(res.body.actions).toEqual([]);
  });

  it.each([
    ['an unknown app', { nope: { db: { cpu_cores: 1, mem_units: 1 } } }, /unknown app 'nope'/],
    ['an unknown tier', { [APP]: { cache: { cpu_cores: 1, mem_units: 1 } } }, /unknown tier 'cache'/],
    ['a negative value', { [APP]: { db: { cpu_cores: -1, mem_units: 1 } } }, /cpu_cores/],
    ['a fractional value', { [APP]: { db: { cpu_cores: 1.5, mem_units: 1 } } }, /cpu_cores.*whole number/],
    ['cores without memory', { [APP]: { db: { cpu_cores: 1, mem_units: 0 } } }, /both/],
    ['a missing field', { [APP]: { db: { cpu_cores: 1 } } }, /mem_units.*required/],
  ])('refuses a plan with %s with 400, changing nothing', async (_what, plan, message) => {
    const before = await engineContainers();
    const res = await api.put('/api/execute').send(plan);
    expect(res.status).toBe(400);
    expect(res.body.error).toMatch(message);
    expect(await engineContainers()).toEqual(before);
  });

  it('accepts integral floats such as 2.0', async () => {
    const res = await api.put('/api/translate').send({ [APP]: { db: { cpu_cores: 1.0, mem_units: 2.0 } } });
    expect(res.status).toBe(200);
    expect(res.body.actions).toEqual([]);
  });

  it('refuses a plan no allocation can satisfy with 422, changing nothing', async () => {
    const before = await engineContainers();
    const res = await api.put('/api/execute').send({ [APP]: { web: { cpu_cores: 4, mem_units: 1 } } });
    expect(res.status).toBe(422);
    expect(res.body.error).toMatch(/No solution found/);
    expect(await engineContainers()).toEqual(before);
    expect((await api.get('/api/allocation')).body.node1.used[`${APP}_web`]).toEqual({ cpu_cores: 1, mem_units: 1 });
  });

  it('refuses a runaway plan at once instead of modelling thousands of VMs', async () => {
    const res = await api.put('/api/translate').send({ [APP]: { web: { cpu_cores: 1_000_000, mem_units: 1 } } });
    expect(res.status).toBe(422);
    expect(res.body.error).toMatch(/needs at least \d+ new VMs; one plan may add at most 1000/);
  });

  it('resizes a container in place: same id, new memory as the engine reports it', async () => {
    const before = await engineContainers();
    const res = await api.put('/api/execute').send({ [APP]: { web: { cpu_cores: 1, mem_units: 4 } } });
    expect(res.status).toBe(200);
    expect(res.body.actions).toEqual([[`update container '${APP}_web' on vm 'node1' with cpu cores=1 and mem_units=4`]]);
    const after = await engineContainers();
    expect(after[`${APP}_web`].id).toBe(before[`${APP}_web`].id);
    expect(after[`${APP}_web`].memory).toBe(4 * MEM_UNIT_MB * 1024 * 1024);
    expect(after[`${APP}_web`].swap).toBe(4 * MEM_UNIT_MB * 1024 * 1024);
  });

  it('takes the ecoware-core planner\'s flat plans on POST /api/executor, with bare tier names', async () => {
    const res = await api.post('/api/executor').send({ [`${APP}_web`]: { cpu_cores: 1, mem_units: 3 }, db: { cpu_cores: 1, mem_units: 1 } });
    expect(res.status).toBe(200);
    expect(res.body.allocation.node1.used).toEqual({ [`${APP}_db`]: { cpu_cores: 1, mem_units: 1 }, [`${APP}_web`]: { cpu_cores: 1, mem_units: 3 } });
    const after = await engineContainers();
    expect(after[`${APP}_db`].memory).toBe(MEM_UNIT_MB * 1024 * 1024);
  });

  it('reports what the engines run on GET /api/inspect', async () => {
    const res = await api.get('/api/inspect');
    expect(res.status).toBe(200);
    const names = res.body.node1.containers.map((c: { name: string }) => c.name).sort();
    expect(names).toEqual([`${APP}_db`, `${APP}_web`]);
    const web = res.body.node1.containers.find((c: { name: string }) => c.name === `${APP}_web`);
    expect(web).toMatchObject({ CpusetCpus: expect.stringMatching(/^[01]$/), Memory: 3 * MEM_UNIT_MB * 1024 * 1024, state: 'running' });
  });

  it('keeps a record of every execution', async () => {
    const list = await api.get('/api/executions?limit=2');
    expect(list.status).toBe(200);
    expect(list.body.meta).toMatchObject({ limit: 2, offset: 0, next: expect.stringContaining('offset=2') });
    const [latest] = list.body.objects;
    expect(latest.status).toBe('succeeded');
    const detail = await api.get(latest.resource_uri);
    expect(detail.body.steps.flat().map((r: { description: string; status: string }) => [r.description, r.status])).toEqual([
      [`update container '${APP}_db' on vm 'node1' with cpu cores=1 and mem_units=1`, 'succeeded'],
      [`update container '${APP}_web' on vm 'node1' with cpu cores=1 and mem_units=3`, 'succeeded'],
    ]);
    expect((await api.get('/api/executions/nope')).status).toBe(404);
    expect((await api.get('/api/executions?limit=0')).status).toBe(400);
  });

  it('answers 202 with the execution id when asked not to wait', async () => {
    const res = await api.put('/api/execute?wait=false').send({ [APP]: { web: { cpu_cores: 1, mem_units: 2 } } });
    expect(res.status).toBe(202);
    expect(res.headers.location).toBe(`/api/executions/${res.body.execution_id}`);
    let execution;
    for (let i = 0; i < 100; i++) {
      execution = (await api.get(res.headers.location)).body;
      if (execution.status === 'succeeded' || execution.status === 'failed') break;
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(execution.status).toBe('succeeded');
  });

  it('finds its containers again after a restart instead of duplicating them', async () => {
    const before = await engineContainers();
    const allocation = (await api.get('/api/allocation')).body;
    await daemon.close();
    daemon = await startDaemon({ port: 0, stateDir, localDocker: testDockerEndpoint().url, solverTimeLimitMs: 5000 });
    api = request(daemon.url);
    expect((await api.get('/api/topology')).body).toEqual(topology());
    expect((await api.get('/api/allocation')).body).toEqual(allocation);
    const res = await api.put('/api/execute').send({ [APP]: { web: { cpu_cores: 1, mem_units: 2 }, db: { cpu_cores: 1, mem_units: 1 } } });
    expect(res.body.actions).toEqual([]);
    expect(await engineContainers()).toEqual(before);
  });

  it('removes a tier planned at zero, and its container with it', async () => {
    const res = await api.put('/api/execute').send({ [APP]: { web: { cpu_cores: 0, mem_units: 0 } } });
    expect(res.status).toBe(200);
    expect(res.body.actions).toEqual([[`delete container '${APP}_web' from vm 'node1'`]]);
    expect(Object.keys(await engineContainers())).toEqual([`${APP}_db`]);
  });

  it('refuses a topology that drops a tier still running, with 409', async () => {
    const without = JSON.parse(JSON.stringify(topology()));
    delete without.apps[0].tiers.db;
    delete without.apps[0].tiers.web.depends_on;
    const res = await api.put('/api/topology').send(without);
    expect(res.status).toBe(409);
    expect(res.body.error).toMatch(new RegExp(`${APP}_db`));
    expect((await api.get('/api/topology')).body).toEqual(topology());
  });
});

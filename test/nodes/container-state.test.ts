import { promises as fs } from 'fs';
import * as os from 'os';
import * as path from 'path';
import request from 'supertest';
import { Daemon, startDaemon } from '../../src/main';
import { LABEL_APP, LABEL_FLAT_TIER, LABEL_MANAGED, LABEL_TIER, LABEL_VM } from '../../src/drivers/docker/labels';
import { appContainers, engine, removeContainersByLabel, testDockerEndpoint, testImage } from '../support/docker';

/**
 * A container that does not run is not "running as planned": stopped, removed or never started
 * behind the daemon's back, the next plan (even an empty one) starts or re-creates it, and the
 * cores a never-started container holds are never given to another tier. Checked on the engine.
 */
const APP = `cs${process.pid}`;
const MEM_UNIT_MB = 16;
const MIB = 1024 * 1024;

describe('container state counts', () => {
  let stateDir: string;
  let daemon: Daemon;
  let api: ReturnType<typeof request>;

  beforeAll(async () => {
    await removeContainersByLabel(LABEL_APP, APP);
    stateDir = await fs.mkdtemp(path.join(os.tmpdir(), 'ecoware-state-'));
    daemon = await startDaemon({ port: 0, stateDir, localDocker: testDockerEndpoint().url, solverTimeLimitMs: 5000 });
    api = request(daemon.url);
    const res = await api.put('/api/topology').send({
      infrastructure: {
        cloud_driver: { type: 'static', nodes: [{ name: 'node1', docker: testDockerEndpoint().url }] },
        cpu_cores: 2, mem_units: 8, mem_unit_mb: MEM_UNIT_MB, reconcile_interval_s: 0,
      },
      apps: [{ name: APP, tiers: {
        web: { docker_image: testImage(), entrypoint_params: 'sleep 100000' },
        db: { max_node: 1, docker_image: testImage(), entrypoint_params: 'sleep 100000' },
      } }],
    });
    expect(res.status).toBe(200);
    expect((await api.put('/api/execute').send({ [APP]: { web: { cpu_cores: 1, mem_units: 1 }, db: { cpu_cores: 1, mem_units: 2 } } })).status).toBe(200);
  });

  afterAll(async () => {
    await daemon?.close();
    await removeContainersByLabel(LABEL_APP, APP);
    await fs.rm(stateDir, { recursive: true, force: true });
  });

  it('starts again, in place, a container stopped behind its back', async () => {
    const before = await appContainers(APP);
    await engine().getContainer(before[`${APP}_db`].id).stop({ t: 0 });

    const preview = await api.put('/api/translate').send({});
    expect(preview.status).toBe(200);
    expect(preview.body.actions).toEqual([[`start container '${APP}_db' on vm 'node1'`]]);

    const res = await api.put('/api/execute').send({});
    expect(res.status).toBe(200);
    expect(res.body.actions).toEqual([[`start container '${APP}_db' on vm 'node1'`]]);
    const after = await appContainers(APP);
    expect(after[`${APP}_db`]).toEqual({ ...before[`${APP}_db`], state: 'running' });
    expect((await api.get('/api/allocation')).body.node1.not_running).toBeUndefined();
  });

  it('re-creates a container removed behind its back, on the same cores and memory', async () => {
    const before = await appContainers(APP);
    await engine().getContainer(before[`${APP}_web`].id).remove({ force: true });

    const res = await api.put('/api/execute').send({});
    expect(res.status).toBe(200);
    expect(res.body.actions).toEqual([[`create container '${APP}_web' on vm 'node1' with cpu cores=1 and mem_units=1`]]);
    const after = await appContainers(APP);
    expect(after[`${APP}_web`]).toMatchObject({ state: 'running', cpuset: before[`${APP}_web`].cpuset, memory: MEM_UNIT_MB * MIB });
    expect(after[`${APP}_web`].id).not.toBe(before[`${APP}_web`].id);
  });

  it('a stopped container resized by a plan is started as well', async () => {
    const before = await appContainers(APP);
    await engine().getContainer(before[`${APP}_db`].id).stop({ t: 0 });
    const res = await api.put('/api/execute').send({ [APP]: { db: { cpu_cores: 1, mem_units: 3 } } });
    expect(res.status).toBe(200);
    const after = await appContainers(APP);
    expect(after[`${APP}_db`]).toMatchObject({ id: before[`${APP}_db`].id, state: 'running', memory: 3 * MEM_UNIT_MB * MIB });
  });

  it('never gives the cores of a never-started container to another tier, and starts it', async () => {
    // What a daemon killed between create and start leaves: a managed container in state `created`.
    // Here it is the web tier's, made on the engine while the daemon's record says web is gone.
    expect((await api.put('/api/execute').send({ [APP]: { web: { cpu_cores: 0, mem_units: 0 } } })).status).toBe(200);
    const dbCores = (await appContainers(APP))[`${APP}_db`].cpuset;
    const freeCore = dbCores === '0' ? '1' : '0';
    const created = await engine().createContainer({
      name: `${APP}_web`, Image: testImage(), Cmd: ['sleep', '100000'],
      Labels: { [LABEL_MANAGED]: 'true', [LABEL_APP]: APP, [LABEL_TIER]: 'web', [LABEL_FLAT_TIER]: `${APP}_web`, [LABEL_VM]: 'node1' },
      HostConfig: { CpusetCpus: freeCore, Memory: MEM_UNIT_MB * MIB, MemorySwap: MEM_UNIT_MB * MIB },
    });

    // db may not grow onto the core the created container holds: the node has no third core.
    const grow = await api.put('/api/execute').send({ [APP]: { db: { cpu_cores: 2, mem_units: 3 } } });
    expect(grow.status).toBe(422);
    const allocation = (await api.get('/api/allocation')).body;
    expect(allocation.node1.used[`${APP}_web`]).toEqual({ cpu_cores: 1, mem_units: 1 });
    expect(allocation.node1.not_running).toEqual({ [`${APP}_web`]: 'created' });

    const res = await api.put('/api/execute').send({});
    expect(res.status).toBe(200);
    expect(res.body.actions).toEqual([[`start container '${APP}_web' on vm 'node1'`]]);
    const after = await appContainers(APP);
    expect(after[`${APP}_web`]).toMatchObject({ id: created.id, state: 'running', cpuset: freeCore });
    expect(after[`${APP}_db`].cpuset).toBe(dbCores);
  });
});

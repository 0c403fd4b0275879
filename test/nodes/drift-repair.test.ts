import { promises as fs } from 'fs';
import * as os from 'os';
import * as path from 'path';
import request from 'supertest';
import { Daemon, startDaemon } from '../../src/main';
import { DockerContainerRuntime } from '../../src/drivers/docker/docker-container-runtime';
import { LABEL_APP, LABEL_FLAT_TIER, LABEL_MANAGED, LABEL_TIER, LABEL_VM } from '../../src/drivers/docker/labels';
import { appContainers, engine, removeContainersByLabel, testDockerEndpoint, testImage } from '../support/docker';
import { waitUntil } from '../support/wait-for';

/**
 * Drift repair (SPEC §8) on the real engine: `docker stop`, `docker rm -f`, `docker update -m` and a
 * stray managed container behind the daemon's back are undone within a reconcile interval, each
 * repair recorded as an execution of kind `reconcile` listing what it found; a quiet pass records nothing.
 */
const APP = `dr${process.pid}`;
const MEM_UNIT_MB = 16;
const MIB = 1024 * 1024;
const RECONCILE_S = 1;

describe('drift repair', () => {
  let stateDir: string;
  let daemon: Daemon;
  let api: ReturnType<typeof request>;
  let planned: Awaited<ReturnType<typeof appContainers>>;

  const reconciles = async () => ((await api.get('/api/executions?limit=100')).body.objects as any[]).filter((e) => e.kind === 'reconcile');
  /** The newest reconcile execution that repaired `kind` drift of `tier`, in full. */
  const repairOf = (tier: string, kind: string) => waitUntil(`a reconcile of ${kind} ${tier}`, async () => {
    for (const summary of await reconciles()) {
      const record = (await api.get(`/api/executions/${summary.id}`)).body;
      if (record.status === 'succeeded' && record.drift?.some((d: any) => d.tier === tier && d.kind === kind)) return record;
    }
    return undefined;
  }, 15_000);

  beforeAll(async () => {
    await removeContainersByLabel(LABEL_APP, APP);
    stateDir = await fs.mkdtemp(path.join(os.tmpdir(), 'ecoware-drift-'));
    daemon = await startDaemon({ port: 0, stateDir, localDocker: testDockerEndpoint().url, solverTimeLimitMs: 5000 });
    api = request(daemon.url);
    const res = await api.put('/api/topology').send({
      infrastructure: {
        cloud_driver: { type: 'static', nodes: [{ name: 'node1', docker: testDockerEndpoint().url }] },
        cpu_cores: 2, mem_units: 8, mem_unit_mb: MEM_UNIT_MB, reconcile_interval_s: RECONCILE_S,
      },
      apps: [{ name: APP, tiers: {
        web: { docker_image: testImage() },
        db: { max_node: 1, docker_image: testImage() },
        cache: { docker_image: testImage() },
      } }],
    });
    expect(res.status).toBe(200);
    expect((await api.put('/api/execute').send({ [APP]: { web: { cpu_cores: 1, mem_units: 1 }, db: { cpu_cores: 1, mem_units: 2 } } })).status).toBe(200);
    planned = await appContainers(APP);
  });

  afterAll(async () => {
    await daemon?.close();
    await removeContainersByLabel(LABEL_APP, APP);
    await fs.rm(stateDir, { recursive: true, force: true });
  });

  it('records nothing while nothing drifts', async () => {
    await new Promise((r) => setTimeout(r, 3 * RECONCILE_S * 1000));
    expect(await reconciles()).toEqual([]);
  });

  it('never touches a task (a job\'s container): running or exited, it is no drift', async () => {
    const tasks = new DockerContainerRuntime(testDockerEndpoint()).tasks;
    const task = await tasks.start({
      name: `${APP}-task`, image: testImage(), argv: ['sleep', '300'], env: {}, cpuset: [0], memoryMb: MEM_UNIT_MB, labels: { 'io.ecoware.job': APP },
    });
    try {
      await new Promise((r) => setTimeout(r, 3 * RECONCILE_S * 1000));
      expect((await engine().getContainer(task.id).inspect()).State.Running).toBe(true);
      await tasks.stop(task.id, 0);
      await new Promise((r) => setTimeout(r, 3 * RECONCILE_S * 1000));
      // Neither restarted nor removed, and no repair recorded.
      expect((await engine().getContainer(task.id).inspect()).State.Status).toBe('exited');
      expect(await reconciles()).toEqual([]);
    } finally {
      await tasks.remove(task.id);
    }
  });

  it('starts again a container stopped behind its back', async () => {
    await engine().getContainer(planned[`${APP}_db`].id).stop({ t: 0 });
    const record = await repairOf(`${APP}_db`, 'stopped');
    expect(record.steps.flat().map((s: any) => s.description)).toEqual([`start container '${APP}_db' on vm 'node1'`]);
    expect((await appContainers(APP))[`${APP}_db`]).toEqual({ ...planned[`${APP}_db`], state: 'running' });
  });

  it('re-creates a removed container with its cpuset and memory', async () => {
    await engine().getContainer(planned[`${APP}_web`].id).remove({ force: true });
    await repairOf(`${APP}_web`, 'removed');
    const web = (await appContainers(APP))[`${APP}_web`];
    expect(web).toMatchObject({ state: 'running', cpuset: planned[`${APP}_web`].cpuset, memory: MEM_UNIT_MB * MIB });
  });

  it('sets back a memory limit changed behind its back', async () => {
    await engine().getContainer(planned[`${APP}_db`].id).update({ Memory: 5 * MEM_UNIT_MB * MIB, MemorySwap: 5 * MEM_UNIT_MB * MIB });
    const record = await repairOf(`${APP}_db`, 'resized');
    expect(record.steps.flat().map((s: any) => s.description)).toEqual([`update container '${APP}_db' on vm 'node1' with cpu cores=1 and mem_units=2`]);
    expect((await appContainers(APP))[`${APP}_db`]).toMatchObject({ id: planned[`${APP}_db`].id, memory: 2 * MEM_UNIT_MB * MIB });
  });

  it('removes a managed container of the topology that the allocation does not list', async () => {
    const stray = await engine().createContainer({
      name: `${APP}_cache`, Image: testImage(),
      Labels: { [LABEL_MANAGED]: 'true', [LABEL_APP]: APP, [LABEL_TIER]: 'cache', [LABEL_FLAT_TIER]: `${APP}_cache`, [LABEL_VM]: 'node1' },
    });
    await stray.start();
    await repairOf(`${APP}_cache`, 'unknown');
    expect(Object.keys(await appContainers(APP)).sort()).toEqual([`${APP}_db`, `${APP}_web`]);
    expect((await api.get('/api/allocation')).body.node1.used).toEqual({
      [`${APP}_web`]: { cpu_cores: 1, mem_units: 1 }, [`${APP}_db`]: { cpu_cores: 1, mem_units: 2 },
    });
  });
});

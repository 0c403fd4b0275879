import { promises as fs } from 'fs';
import * as os from 'os';
import * as path from 'path';
import request from 'supertest';
import { Daemon, startDaemon } from '../../src/main';
import { LABEL_APP } from '../../src/drivers/docker/labels';
import { engine, removeContainersByLabel, testDockerEndpoint, testImage } from '../support/docker';

/**
 * Rollback (SPEC §8) on the real engine: with `on_failure: rollback` a failed execution ends where it
 * started, as the engine reports it; `POST /api/executions/:id/rollback` returns to the placement an
 * execution started from. The failure is real: the engine refuses a 4 MiB memory limit (its minimum is 6 MiB).
 */
const APP = `rb${process.pid}`;
const UNIT_MB = 4;
const MIB = 1024 * 1024;

async function ours() {
  const list = await engine().listContainers({ all: true, filters: { label: [`${LABEL_APP}=${APP}`] } });
  const inspected = await Promise.all(list.map((c) => engine().getContainer(c.Id).inspect()));
  return Object.fromEntries(inspected.map((c) => [c.Name.slice(1), { id: c.Id, memory: c.HostConfig.Memory, running: c.State.Running }]));
}

describe('rollback', () => {
  let stateDir: string;
  let daemon: Daemon;
  let api: ReturnType<typeof request>;
  let first: string;

  beforeAll(async () => {
    await removeContainersByLabel(LABEL_APP, APP);
    stateDir = await fs.mkdtemp(path.join(os.tmpdir(), 'ecoware-rollback-'));
    daemon = await startDaemon({ port: 0, stateDir, localDocker: testDockerEndpoint().url, solverTimeLimitMs: 5000 });
    api = request(daemon.url);
    expect((await api.put('/api/topology').send({
      infrastructure: {
        cloud_driver: { type: 'static', nodes: [{ name: 'node1', docker: testDockerEndpoint().url }] },
        cpu_cores: 2, mem_units: 16, mem_unit_mb: UNIT_MB, reconcile_interval_s: 0, on_failure: 'rollback',
      },
      apps: [{ name: APP, tiers: { web: { docker_image: testImage() }, cache: { docker_image: testImage() } } }],
    })).status).toBe(200);
    const res = await api.put('/api/execute').send({ [APP]: { web: { cpu_cores: 1, mem_units: 2 } } });
    expect(res.status).toBe(200);
    first = res.body.execution_id;
  });

  afterAll(async () => {
    await daemon?.close();
    await removeContainersByLabel(LABEL_APP, APP);
    await fs.rm(stateDir, { recursive: true, force: true });
  });

  it('ends a failed execution where it started when the topology says on_failure: rollback', async () => {
    const before = await ours();
    const res = await api.put('/api/execute').send({ [APP]: { web: { cpu_cores: 1, mem_units: 3 }, cache: { cpu_cores: 1, mem_units: 1 } } });
    expect(res.status).toBe(502);
    const deadline = Date.now() + 15_000;
    let rollback: any;
    while (!rollback && Date.now() < deadline) {
      rollback = ((await api.get('/api/executions')).body.objects as any[]).find((e) => e.kind === 'rollback' && e.status === 'succeeded');
      if (!rollback) await new Promise((r) => setTimeout(r, 100));
    }
    expect(rollback).toBeDefined();
    expect(await ours()).toEqual(before);
    expect(before[`${APP}_web`].memory).toBe(2 * UNIT_MB * MIB);
    expect((await api.get('/api/allocation')).body.node1.used).toEqual({ [`${APP}_web`]: { cpu_cores: 1, mem_units: 2 } });
  });

  it('returns to the placement an execution started from, on request', async () => {
    const res = await api.post(`/api/executions/${first}/rollback`);
    expect(res.status).toBe(200);
    // The plan started from an empty node: the static node is emptied and marked idle again.
    expect(res.body).toMatchObject({ kind: 'rollback', status: 'succeeded', actions: [[`delete container '${APP}_web' from vm 'node1'`], [`delete vm 'node1'`]] });
    expect(await ours()).toEqual({});
    expect((await api.post('/api/executions/nope/rollback')).status).toBe(404);
  });
});

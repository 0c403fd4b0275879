import { promises as fs } from 'fs';
import * as os from 'os';
import * as path from 'path';
import request from 'supertest';
import { Daemon, startDaemon } from '../../src/main';
import { LABEL_APP } from '../../src/drivers/docker/labels';
import { GitFixture } from '../support/git-fixture';
import { engine, removeContainersByLabel, testDockerEndpoint, testImage } from '../support/docker';
import { waitFor } from '../support/wait-for';

/**
 * Rollback against a real engine: on request, and after a failed plan under `on_failure: rollback`.
 * What runs where is asked of the engine (pinned cores, memory limits, container ids), never of the daemon.
 */
const APP = `rbk${process.pid}`;
const MEM_UNIT_MB = 16;

const topology = (repo: string, extra: Record<string, unknown> = {}) => ({
  infrastructure: {
    // The address is given: an engine without a default bridge cannot tell its own.
    cloud_driver: { type: 'static', nodes: [{ name: 'node1', docker: testDockerEndpoint().url, address: '127.0.0.1' }] },
    hooks_git_repo: repo, cpu_cores: 2, mem_units: 8, mem_unit_mb: MEM_UNIT_MB, ...extra,
  },
  apps: [{
    name: APP,
    tiers: {
      db: { max_node: 1, docker_image: testImage() },
      // Refuses to run with more than 2 memory units: a plan giving it more fails on its hook.
      web: { docker_image: testImage(), depends_on: ['db'], on_node_scale: 'picky.sh' },
    },
  }],
});

/** The app's containers as the engine reports them: tier -> id, pinned cores, memory in units. */
async function engineState(): Promise<Record<string, { id: string; cores: number[]; mem_units: number; running: boolean }>> {
  const list = await engine().listContainers({ all: true, filters: { label: [`${LABEL_APP}=${APP}`] } });
  const inspected = await Promise.all(list.map((c) => engine().getContainer(c.Id).inspect()));
  return Object.fromEntries(inspected.map((c) => [c.Name.replace(/^\/[^_]+_/, ''), {
    id: c.Id,
    cores: c.HostConfig.CpusetCpus!.split(',').map(Number).sort(),
    mem_units: c.HostConfig.Memory! / (MEM_UNIT_MB * 2 ** 20),
    running: c.State.Running,
  }]));
}

/** The sizes only: what a rollback restores (the cores it pins are chosen afresh). */
const sizes = (state: Awaited<ReturnType<typeof engineState>>) =>
  Object.fromEntries(Object.entries(state).map(([tier, c]) => [tier, { cpu_cores: c.cores.length, mem_units: c.mem_units, running: c.running }]));

describe('rollback against a real engine', () => {
  let root: string;
  let repo: GitFixture;
  let daemon: Daemon;
  let api: ReturnType<typeof request>;

  beforeAll(async () => {
    await removeContainersByLabel(LABEL_APP, APP);
    root = await fs.mkdtemp(path.join(os.tmpdir(), 'ecoware-rollback-'));
    repo = new GitFixture(root);
    repo.commit({ 'scale_hooks/picky.sh': '#!/bin/sh\n[ "$ECOWARE_MEM_UNITS" -le 2 ] || { echo "too much memory: $ECOWARE_MEM_UNITS" >&2; exit 1; }\n' });
    daemon = await startDaemon({ port: 0, stateDir: path.join(root, 'state'), localDocker: testDockerEndpoint().url });
    api = request(daemon.url);
  });

  afterAll(async () => {
    await daemon?.close();
    await removeContainersByLabel(LABEL_APP, APP);
    await fs.rm(root, { recursive: true, force: true });
  });

  it('returns to the placement the second of two plans started from', async () => {
    expect((await api.put('/api/topology').send(topology(repo.dir))).status).toBe(200);
    const first = await api.put('/api/execute').send({ [APP]: { db: { cpu_cores: 1, mem_units: 2 }, web: { cpu_cores: 1, mem_units: 1 } } });
    expect(first.status).toBe(200);
    const before = await engineState();
    expect(sizes(before)).toEqual({ db: { cpu_cores: 1, mem_units: 2, running: true }, web: { cpu_cores: 1, mem_units: 1, running: true } });

    const second = await api.put('/api/execute').send({ [APP]: { db: { cpu_cores: 2, mem_units: 5 }, web: { cpu_cores: 0, mem_units: 0 } } });
    expect(second.status).toBe(200);
    expect(sizes(await engineState())).toEqual({ db: { cpu_cores: 2, mem_units: 5, running: true } });

    const res = await api.post(`/api/executions/${second.body.execution_id}/rollback`);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ kind: 'rollback', status: 'succeeded', rollback_of: second.body.execution_id });
    const after = await engineState();
    expect(sizes(after)).toEqual(sizes(before));
    // db is the same container, resized back; web is made anew; no core is pinned twice.
    expect(after.db.id).toBe(before.db.id);
    expect(after.db.cores.filter((c) => after.web.cores.includes(c))).toEqual([]);
    // The daemon's own view agrees with the engine.
    expect((await api.get('/api/allocation')).body.node1.used).toEqual({
      [`${APP}_db`]: { cpu_cores: 1, mem_units: 2 }, [`${APP}_web`]: { cpu_cores: 1, mem_units: 1 },
    });
  });

  it('with on_failure: rollback, a plan that fails on a hook ends where it started', async () => {
    expect((await api.put('/api/topology').send(topology(repo.dir, { on_failure: 'rollback' }))).status).toBe(200);
    const before = await engineState();

    // db grows first, then web's hook refuses 3 units: the plan fails half-way.
    const failed = await api.put('/api/execute').send({ [APP]: { db: { cpu_cores: 1, mem_units: 4 }, web: { cpu_cores: 1, mem_units: 3 } } });
    expect(failed.status).toBe(502);
    expect(failed.body).toMatchObject({ status: 'failed', rolled_back_by: expect.any(String) });
    expect(failed.body.error).toMatch(/picky\.sh.*exited with code 1/);
    expect(failed.body.steps[0][0]).toMatchObject({ status: 'succeeded', description: expect.stringMatching(new RegExp(`update container '${APP}_db'.*mem_units=4`)) });

    const rollback = await waitFor(
      () => api.get(`/api/executions/${failed.body.rolled_back_by}`).then((r) => r.body),
      (e) => e.status !== 'queued' && e.status !== 'running',
    );
    expect(rollback).toMatchObject({ kind: 'rollback', status: 'succeeded', rollback_of: failed.body.execution_id });
    const after = await engineState();
    expect(sizes(after)).toEqual(sizes(before));
    expect(after.db.id).toBe(before.db.id);
    expect(after.web.id).toBe(before.web.id);
    expect((await api.get(`/api/executions/${failed.body.execution_id}`)).body.rolled_back_by).toBe(rollback.id);
  });
});

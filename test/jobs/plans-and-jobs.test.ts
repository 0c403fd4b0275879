import { promises as fs } from 'fs';
import * as os from 'os';
import * as path from 'path';
import request from 'supertest';
import { Daemon, startDaemon } from '../../src/main';
import { LABEL_APP, LABEL_TASK } from '../../src/drivers/docker/labels';
import { engine, inspectContainer, removeContainersByLabel, testDockerEndpoint, testImage } from '../support/docker';
import { waitFor } from '../support/wait-for';

/**
 * Plans beside a running job on a real engine, through the daemon's HTTP API: a job of a template
 * (a busybox `sleep`) holds a core, and the tiers' cpusets are asked of the engine, never of the
 * daemon.
 */
const APP = `jobs${process.pid}`;
const MEM_UNIT_MB = 32;

const topology = (infrastructure: Record<string, unknown> = {}) => ({
  infrastructure: {
    cloud_driver: { type: 'static', nodes: [{ name: 'node1', docker: testDockerEndpoint().url }] },
    cpu_cores: 2, mem_units: 8, mem_unit_mb: MEM_UNIT_MB, ...infrastructure,
  },
  apps: [{ name: APP, tiers: { web: { docker_image: testImage(), entrypoint_params: 'sleep 100000' } } }],
});
const plan = (cores: number) => ({ [APP]: { web: { cpu_cores: cores, mem_units: 2 } } });

async function tierCpusets(): Promise<string[]> {
  const list = await engine().listContainers({ all: true, filters: { label: [`${LABEL_APP}=${APP}`] } });
  return Promise.all(list.map(async (c) => (await engine().getContainer(c.Id).inspect()).HostConfig.CpusetCpus ?? ''));
}

describe('plans beside a running job, on a real engine', () => {
  let stateDir: string;
  let daemon: Daemon;
  let api: ReturnType<typeof request>;
  let job: string;

  beforeAll(async () => {
    await removeContainersByLabel(LABEL_APP, APP);
    await removeContainersByLabel(LABEL_TASK, 'true');
    stateDir = await fs.mkdtemp(path.join(os.tmpdir(), 'ecoware-jobs-plans-'));
    daemon = await startDaemon({ port: 0, stateDir, localDocker: testDockerEndpoint().url, solverTimeLimitMs: 5000 });
    api = request(daemon.url);
    expect((await api.put('/api/topology').send(topology())).status).toBe(200);
    expect((await api.put('/api/job-templates/hold').send({ image: testImage(), command: ['sleep', '300'], cpu_cores: 1, mem_units: 2 })).status).toBe(201);
    const template = await waitFor(async () => (await api.get('/api/job-templates/hold')).body, (t) => t.status !== 'validating', 30_000, 200);
    expect(template.status).toBe('ready');
  });

  afterAll(async () => {
    await daemon?.close();
    await removeContainersByLabel(LABEL_APP, APP);
    await removeContainersByLabel(LABEL_TASK, 'true');
    await fs.rm(stateDir, { recursive: true, force: true });
  });

  it('applies a plan on the cores a running job leaves: no tier container is pinned to the job\'s core', async () => {
    const dispatched = await api.post('/api/jobs').send({ template: 'hold' });
    expect(dispatched.status).toBe(202);
    job = dispatched.body.id;
    const running = await waitFor(async () => (await api.get(`/api/jobs/${job}`)).body, (j) => j.status === 'running', 30_000, 200);
    expect(running.status).toBe('running');
    const task = await inspectContainer(`ecoware-job-${job}-1`);
    expect(task?.State.Running).toBe(true);
    const jobCore = task!.HostConfig.CpusetCpus;
    expect(['0', '1']).toContain(jobCore);

    const res = await api.put('/api/execute').send(plan(1));
    expect(res.status).toBe(200);
    expect(await tierCpusets()).toEqual([jobCore === '0' ? '1' : '0']);
    expect((await inspectContainer(`ecoware-job-${job}-1`))?.State.Running).toBe(true);
  });

  it('refuses a plan that needs the job\'s core with 422 naming the job, changing nothing', async () => {
    const before = await tierCpusets();
    const preview = await api.put('/api/translate').send(plan(2));
    expect(preview.status).toBe(422);
    expect(preview.body).toMatchObject({ code: 'held_by_jobs', error: expect.stringMatching(new RegExp(`^the plan needs 1 core that running jobs hold: job ${job} on node1 \\(1 core, 64 MB`)) });
    const res = await api.put('/api/execute').send(plan(2));
    expect(res.status).toBe(422);
    expect(res.body).toMatchObject({ status: 'failed', code: 'held_by_jobs', error: expect.stringContaining(`job ${job} on node1`) });
    expect(await tierCpusets()).toEqual(before);
    expect((await inspectContainer(`ecoware-job-${job}-1`))?.State.Running).toBe(true);
  });

  it('with job_yield_s, waits for the job to end and then takes its core', async () => {
    expect((await api.put('/api/topology').send(topology({ job_yield_s: 30 }))).status).toBe(200);
    const applying = api.put('/api/execute').send(plan(2)).then((r) => r);
    await new Promise((resolve) => setTimeout(resolve, 1000));
    expect((await api.post(`/api/jobs/${job}/cancel`)).status).toBe(202);
    const res = await applying;
    expect(res.status).toBe(200);
    expect(res.body.status).toBe('succeeded');
    expect(await tierCpusets()).toEqual(['0,1']);
    const record = (await api.get(`/api/executions/${res.body.execution_id}`)).body;
    expect(record.notes).toEqual([expect.stringContaining(`for running jobs to end: the plan needs 1 core that running jobs hold: job ${job} on node1`)]);
    expect((await api.get(`/api/jobs/${job}`)).body.status).toBe('cancelled');
  });
});

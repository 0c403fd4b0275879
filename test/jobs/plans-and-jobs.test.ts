import { promises as fs } from 'fs';
import * as os from 'os';
import * as path from 'path';
import request from 'supertest';
import { Daemon, startDaemon } from '../../src/main';
import { LABEL_APP } from '../../src/drivers/docker/labels';
import { engine, removeContainersByLabel, testDockerEndpoint, testImage } from '../support/docker';
import { TestJobs } from '../support/test-jobs';

/**
 * Plans beside a running job on a real engine: a busybox container pinned to the job's core stands
 * for the job, and the jobs' view says it holds that core. The tiers' cpusets are asked of the
 * engine, never of the daemon.
 */
const APP = `jobs${process.pid}`;
const JOB_LABEL = 'io.ecoware.test.job';
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
  const jobs = new TestJobs();

  beforeAll(async () => {
    await removeContainersByLabel(LABEL_APP, APP);
    await removeContainersByLabel(JOB_LABEL, APP);
    stateDir = await fs.mkdtemp(path.join(os.tmpdir(), 'ecoware-jobs-plans-'));
    daemon = await startDaemon({ port: 0, stateDir, localDocker: testDockerEndpoint().url, solverTimeLimitMs: 5000 }, { jobView: jobs });
    api = request(daemon.url);
    // The job: pinned to core 1 of the node, as the jobs part would start it.
    const job = await engine().createContainer({
      Image: testImage(), Cmd: ['sleep', '100000'], Labels: { [JOB_LABEL]: APP },
      HostConfig: { CpusetCpus: '1', Memory: 2 * MEM_UNIT_MB * 1024 * 1024 },
    });
    await job.start();
    jobs.hold({ job: '01JOBONCORE1', vm: 'node1', cpuset: [1], memoryMb: 2 * MEM_UNIT_MB });
  });

  afterAll(async () => {
    await daemon?.close();
    await removeContainersByLabel(LABEL_APP, APP);
    await removeContainersByLabel(JOB_LABEL, APP);
    await fs.rm(stateDir, { recursive: true, force: true });
  });

  it('applies a plan on the cores the job leaves: no tier container is pinned to the job\'s core', async () => {
    expect((await api.put('/api/topology').send(topology())).status).toBe(200);
    const res = await api.put('/api/execute').send(plan(1));
    expect(res.status).toBe(200);
    expect(await tierCpusets()).toEqual(['0']);
    const [job] = await engine().listContainers({ filters: { label: [`${JOB_LABEL}=${APP}`] } });
    expect(job.State).toBe('running');
  });

  it('refuses a plan that needs the job\'s core with 422 naming the job, changing nothing', async () => {
    const preview = await api.put('/api/translate').send(plan(2));
    expect(preview.status).toBe(422);
    expect(preview.body).toMatchObject({ code: 'held_by_jobs', error: 'the plan needs 1 core that running jobs hold: job 01JOBONCORE1 on node1 (1 core, 64 MB)' });
    const res = await api.put('/api/execute').send(plan(2));
    expect(res.status).toBe(422);
    expect(res.body).toMatchObject({ status: 'failed', code: 'held_by_jobs', error: expect.stringContaining('job 01JOBONCORE1 on node1') });
    expect(await tierCpusets()).toEqual(['0']);
  });

  it('with job_yield_s, waits for the job to end and then takes its core', async () => {
    expect((await api.put('/api/topology').send(topology({ job_yield_s: 20 }))).status).toBe(200);
    const applying = api.put('/api/execute').send(plan(2)).then((r) => r);
    await new Promise((resolve) => setTimeout(resolve, 1000));
    // The job ends: its container goes, and the jobs' view says so.
    await removeContainersByLabel(JOB_LABEL, APP);
    jobs.end('01JOBONCORE1');
    const res = await applying;
    expect(res.status).toBe(200);
    expect(res.body.status).toBe('succeeded');
    expect(await tierCpusets()).toEqual(['0,1']);
  });
});

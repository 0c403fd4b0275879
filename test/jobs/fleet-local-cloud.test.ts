import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import request from 'supertest';
import { dockerClient } from '../../dev/local-cloud/dockerd-engine';
import { LocalCloud, startLocalCloud } from '../../dev/local-cloud/local-cloud';
import { Daemon, startDaemon } from '../../src/main';
import { waitFor } from '../support/wait-for';

/**
 * The fleet follows the job queue on an Auto Scaling group: the daemon's AWS driver talks to the
 * local cloud with the real SDK clients, every instance a real dockerd, and the job is a real job of
 * a template. The group's size is asked of the cloud, the job's container of the instance's engine.
 */
const suffix = randomBytes(3).toString('hex');
const GROUP = `ecoware-fleet-${suffix}`;
const APP = `fleet${suffix}`;
const ACCESS_KEY = 'AKIDECOWAREFLEET';
const TEST_IMAGE = process.env.ECOWARE_TEST_IMAGE ?? 'ecoware/busybox:latest';

let cloud: LocalCloud;
let dir: string;
let daemon: Daemon;
let api: ReturnType<typeof request>;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ecoware-fleet-'));
  const credentials = join(dir, 'credentials.conf');
  await writeFile(credentials, `AWS_ACCESS_KEY_ID=${ACCESS_KEY}\nAWS_SECRET_ACCESS_KEY=not-a-secret\n`);
  cloud = await startLocalCloud({ accessKeyId: ACCESS_KEY, bootDelayMs: 500, groups: [{ name: GROUP, minSize: 0, maxSize: 3, desiredCapacity: 1 }] });
  daemon = await startDaemon({ port: 0, stateDir: join(dir, 'state'), solverTimeLimitMs: 5_000 }, { fleet: { intervalMs: 300 } });
  api = request(daemon.url);
  const topology = {
    infrastructure: {
      cloud_driver: { autoscaling_groupname: GROUP, region: 'local-1', endpoint: cloud.endpoint, credentials, instance_ready_timeout_s: 60 },
      cpu_cores: 2, mem_units: 4, mem_unit_mb: 32, scale_in_idle_s: 2,
    },
    apps: [{ name: APP, tiers: { web: { docker_image: TEST_IMAGE, entrypoint_params: 'sleep 100000' } } }],
  };
  expect((await api.put('/api/topology').send(topology)).status).toBe(200);
  // The one instance runs the web tier on both its cores (an idle one would be released after scale_in_idle_s): a 2-core job fits nowhere.
  expect((await api.put('/api/execute').send({ [APP]: { web: { cpu_cores: 2, mem_units: 2 } } })).body.status).toBe('succeeded');
  expect((await api.put('/api/job-templates/wide').send({ image: TEST_IMAGE, command: ['sleep', '4'], cpu_cores: 2, mem_units: 2 })).status).toBe(201);
  const template = await waitFor(async () => (await api.get('/api/job-templates/wide')).body, (t) => t.status !== 'validating', 60_000, 200);
  expect(template.status).toBe('ready');
}, 120_000);

afterAll(async () => {
  await daemon?.close();
  await cloud?.close();
  await rm(dir, { recursive: true, force: true });
});

/**
 * The executions of kind `scale` that changed the fleet, newest first, each with its actions'
 * descriptions (a release whose VM a tier or a job took before its turn carries out nothing).
 */
async function scaleExecutions(): Promise<{ id: string; kind: string; status: string; notes?: string[]; actions: string[] }[]> {
  const { objects } = (await api.get('/api/executions?kind=scale')).body as { objects: { id: string }[] };
  return Promise.all(objects.map(async ({ id }) => {
    const record = (await api.get(`/api/executions/${id}`)).body;
    return { id, kind: record.kind, status: record.status, notes: record.notes, actions: record.steps.flat().map((s: { description: string }) => s.description) };
  })).then((list) => list.filter((e) => e.actions.length > 0));
}

describe('the fleet following the job queue on an Auto Scaling group', () => {
  let first: string;
  let second: string;
  let job: string;

  it('grows the group by one instance for a queued job that fits on no node, and the job runs there', async () => {
    expect(await scaleExecutions()).toEqual([]);
    [first] = cloud.group(GROUP).instances.map((i) => i.instanceId);
    const dispatched = await api.post('/api/jobs').send({ template: 'wide' });
    expect(dispatched.status).toBe(202);
    job = dispatched.body.id;

    const [grown] = await waitFor(scaleExecutions, (list) => list.some((e) => e.status === 'succeeded' || e.status === 'failed'), 90_000, 300);
    expect(grown).toMatchObject({ kind: 'scale', status: 'succeeded', notes: [expect.stringContaining(`job ${job} (2 cores, 2 units)`)] });
    expect(grown.actions).toEqual([expect.stringMatching(/^create vm /)]);
    expect(cloud.group(GROUP).desiredCapacity).toBe(2);
    const member = cloud.group(GROUP).instances.find((i) => i.instanceId !== first)!;
    second = member.instanceId;

    const running = await waitFor(async () => (await api.get(`/api/jobs/${job}`)).body, (j) => j.status !== 'queued' && j.status !== 'starting', 60_000, 200);
    expect(running.attempts[0].node).toBe(second);
    const task = await dockerClient(member.address!, 2375).getContainer(`ecoware-job-${job}-1`).inspect();
    expect(task.HostConfig.CpusetCpus).toBe('0,1');
    // One instance for one job: not a second one while it joined and started.
    expect(cloud.group(GROUP).instances).toHaveLength(2);
    expect(await scaleExecutions()).toHaveLength(1);
  }, 150_000);

  it('keeps the instance while the job runs, and releases it scale_in_idle_s after the job ended', async () => {
    const ended = await waitFor(async () => (await api.get(`/api/jobs/${job}`)).body, (j) => j.status === 'succeeded' || j.status === 'failed', 30_000, 200);
    expect(ended.status).toBe('succeeded');
    const endedAt = Date.now();
    await waitFor(async () => cloud.group(GROUP).instances.length, (n) => n === 1, 60_000, 300);
    expect(Date.now() - endedAt).toBeGreaterThanOrEqual(1_500);
    expect(cloud.group(GROUP).instances.map((i) => i.instanceId)).toEqual([first]);
    const [released] = await scaleExecutions();
    expect(released).toMatchObject({ kind: 'scale', status: 'succeeded', actions: [`delete vm '${second}'`] });
    expect(Object.keys((await api.get('/api/allocation')).body)).toEqual([first]);
  }, 90_000);
});

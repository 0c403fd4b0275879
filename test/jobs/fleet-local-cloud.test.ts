import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import request from 'supertest';
import { LocalCloud, startLocalCloud } from '../../dev/local-cloud/local-cloud';
import { Daemon, startDaemon } from '../../src/main';
import { TestJobs } from '../support/test-jobs';
import { waitFor } from '../support/wait-for';

/**
 * The fleet follows the job queue on an Auto Scaling group: the daemon's AWS driver talks to the
 * local cloud with the real SDK clients, every instance a real dockerd. The group's size is asked of
 * the cloud, the executions of the API.
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
const jobs = new TestJobs();

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ecoware-fleet-'));
  const credentials = join(dir, 'credentials.conf');
  await writeFile(credentials, `AWS_ACCESS_KEY_ID=${ACCESS_KEY}\nAWS_SECRET_ACCESS_KEY=not-a-secret\n`);
  cloud = await startLocalCloud({ accessKeyId: ACCESS_KEY, bootDelayMs: 500, groups: [{ name: GROUP, minSize: 0, maxSize: 3, desiredCapacity: 1 }] });
  daemon = await startDaemon({ port: 0, stateDir: join(dir, 'state'), solverTimeLimitMs: 5_000 }, { jobView: jobs, fleet: { intervalMs: 300, joinGraceMs: 4_000 } });
  api = request(daemon.url);
  const topology = {
    infrastructure: {
      cloud_driver: { autoscaling_groupname: GROUP, region: 'local-1', endpoint: cloud.endpoint, credentials, instance_ready_timeout_s: 60 },
      cpu_cores: 2, mem_units: 4, mem_unit_mb: 32, scale_in_idle_s: 2,
    },
    apps: [{ name: APP, tiers: { web: { docker_image: TEST_IMAGE, entrypoint_params: 'sleep 100000' } } }],
  };
  expect((await api.put('/api/topology').send(topology)).status).toBe(200);
}, 120_000);

afterAll(async () => {
  await daemon?.close();
  await cloud?.close();
  await rm(dir, { recursive: true, force: true });
});

/** The executions of kind `scale`, newest first, each with its actions' descriptions. */
async function scaleExecutions(): Promise<{ id: string; kind: string; status: string; actions: string[] }[]> {
  const { objects } = (await api.get('/api/executions?kind=scale')).body as { objects: { id: string }[] };
  return Promise.all(objects.map(async ({ id }) => {
    const record = (await api.get(`/api/executions/${id}`)).body;
    return { id, kind: record.kind, status: record.status, actions: record.steps.flat().map((s: { description: string }) => s.description) };
  }));
}

describe('the fleet following the job queue on an Auto Scaling group', () => {
  it('grows the group by one instance for a queued job that fits on no node, once', async () => {
    // The one instance runs the web tier on both its cores: a 2-core job fits nowhere.
    expect((await api.put('/api/execute').send({ [APP]: { web: { cpu_cores: 2, mem_units: 2 } } })).body.status).toBe('succeeded');
    const [first] = cloud.group(GROUP).instances.map((i) => i.instanceId);
    jobs.demand({ job: '01QUEUED', cores: 2, memUnits: 2 });

    const [grown] = await waitFor(scaleExecutions, (list) => list.some((e) => e.status === 'succeeded' || e.status === 'failed'), 90_000, 300);
    expect(grown).toMatchObject({ kind: 'scale', status: 'succeeded', actions: [expect.stringMatching(/^create vm /)] });
    expect(cloud.group(GROUP).desiredCapacity).toBe(2);
    const second = cloud.group(GROUP).instances.map((i) => i.instanceId).find((id) => id !== first)!;
    expect((await api.get('/api/allocation')).body[second]).toMatchObject({ cpu_cores: 2, mem_units: 4, used: {} });
    expect(jobs.pokes).toBeGreaterThan(0);

    // The job has not started yet (the demand is still listed): no second instance for it within the grace.
    await new Promise((resolve) => setTimeout(resolve, 2_000));
    expect(cloud.group(GROUP).instances).toHaveLength(2);
    expect(await scaleExecutions()).toHaveLength(1);
  }, 120_000);

  it('releases the idle instance after scale_in_idle_s, and never the one a tier runs on', async () => {
    const web = (await api.get('/api/allocation')).body as Record<string, { used: Record<string, unknown> }>;
    const first = Object.keys(web).find((id) => Object.keys(web[id].used).length > 0)!;
    const second = Object.keys(web).find((id) => id !== first)!;
    jobs.queued = [];
    await waitFor(async () => cloud.group(GROUP).instances.length, (n) => n === 1, 60_000, 300);
    expect(cloud.group(GROUP).instances.map((i) => i.instanceId)).toEqual([first]);
    const [released] = await scaleExecutions();
    expect(released).toMatchObject({ status: 'succeeded' });
    expect(released.actions).toEqual([`delete vm '${second}'`]);
    expect(Object.keys((await api.get('/api/allocation')).body)).toEqual([first]);
  }, 90_000);
});

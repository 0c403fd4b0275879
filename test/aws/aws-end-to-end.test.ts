import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import request from 'supertest';
import { dockerClient } from '../../dev/local-cloud/dockerd-engine';
import { LocalCloud, startLocalCloud } from '../../dev/local-cloud/local-cloud';
import { Daemon, startDaemon } from '../../src/main';
import { LABEL_APP } from '../../src/drivers/docker/labels';

/**
 * The fleet grows and shrinks through the HTTP API: the daemon's AWS driver talks to the local cloud
 * with the real SDK clients, and every instance is a real dockerd. What runs where is asked of the
 * cloud and of each instance's engine directly.
 */
const suffix = randomBytes(3).toString('hex');
const GROUP = `ecoware-e2e-${suffix}`;
const APP = `aws${suffix}`;
const MEM_UNIT_MB = 32;
const ACCESS_KEY = 'AKIDECOWAREE2E';
const TEST_IMAGE = process.env.ECOWARE_TEST_IMAGE ?? 'ecoware/busybox:latest';

let cloud: LocalCloud;
let dir: string;
let stateDir: string;
let credentialsFile: string;
let daemon: Daemon;
let api: ReturnType<typeof request>;

function topology(readyTimeoutS = 30, driver: Record<string, unknown> = {}) {
  return {
    infrastructure: {
      cloud_driver: {
        autoscaling_groupname: GROUP, region: 'local-1', endpoint: cloud.endpoint, credentials: credentialsFile,
        instance_ready_timeout_s: readyTimeoutS, ...driver,
      },
      cpu_cores: 2, mem_units: 4, mem_unit_mb: MEM_UNIT_MB,
    },
    apps: [{
      name: APP,
      tiers: {
        web: { docker_image: TEST_IMAGE, depends_on: ['db'] },
        db: { max_node: 1, docker_image: TEST_IMAGE },
      },
    }],
  };
}

const plan = (web: [number, number], db: [number, number] = [1, 1]) => ({
  [APP]: { web: { cpu_cores: web[0], mem_units: web[1] }, db: { cpu_cores: db[0], mem_units: db[1] } },
});

/** `{instanceId: {flatTier: {cpuset, memory}}}` as each member's engine reports it. */
async function enginesReport(): Promise<Record<string, Record<string, { cpuset: string; memory: number; running: boolean }>>> {
  const report: Record<string, Record<string, { cpuset: string; memory: number; running: boolean }>> = {};
  for (const member of cloud.group(GROUP).instances) {
    const docker = dockerClient(member.address!, 2375);
    const list = await docker.listContainers({ all: true, filters: { label: [`${LABEL_APP}=${APP}`] } });
    report[member.instanceId] = {};
    for (const c of list) {
      const inspected = await docker.getContainer(c.Id).inspect();
      report[member.instanceId][inspected.Name.replace(/^\//, '')] = {
        cpuset: inspected.HostConfig.CpusetCpus ?? '', memory: inspected.HostConfig.Memory ?? 0, running: inspected.State.Running,
      };
    }
  }
  return report;
}

const cores = (cpuset: string) => (cpuset === '' ? [] : cpuset.split(',').map(Number));
const mb = (units: number) => units * MEM_UNIT_MB * 1024 * 1024;

async function restartDaemon(): Promise<void> {
  await daemon.close();
  daemon = await startDaemon({ port: 0, stateDir, solverTimeLimitMs: 5_000 });
  api = request(daemon.url);
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ecoware-aws-e2e-'));
  stateDir = join(dir, 'state');
  credentialsFile = join(dir, 'credentials.conf');
  await writeFile(credentialsFile, `AWS_ACCESS_KEY_ID=${ACCESS_KEY}\nAWS_SECRET_ACCESS_KEY=not-a-secret\n`);
  cloud = await startLocalCloud({
    accessKeyId: ACCESS_KEY, bootDelayMs: 1_000, groups: [{ name: GROUP, minSize: 0, maxSize: 3, desiredCapacity: 1 }],
  });
  daemon = await startDaemon({ port: 0, stateDir, solverTimeLimitMs: 5_000 });
  api = request(daemon.url);
});

afterAll(async () => {
  await daemon?.close();
  // The instances' engines (and every container on them) go with the cloud.
  await cloud?.close();
  await rm(dir, { recursive: true, force: true });
});

describe('an Auto Scaling group through the HTTP API', () => {
  let first: string;
  let second: string;

  it('loads a topology on the group and shows its instance with id and address', async () => {
    const res = await api.put('/api/topology').send(topology());
    expect(res.status).toBe(200);
    const [member] = cloud.group(GROUP).instances;
    first = member.instanceId;
    expect((await api.get('/api/allocation')).body).toEqual({
      [first]: { ip: member.address, instance_id: first, cpu_cores: 2, mem_units: 4, used: {} },
    });
  });

  it.each([
    ['a credentials file that does not exist', { credentials: '/nonexistent/ecoware/aws.conf' }, /cannot read AWS credentials file/],
    ['a group that does not exist', { autoscaling_groupname: 'no-such-group' }, /Auto Scaling group 'no-such-group' does not exist/],
  ])('refuses a topology with %s (422), keeping the one in force', async (_name, driver, message) => {
    const res = await api.put('/api/topology').send(topology(30, driver));
    expect(res.status).toBe(422);
    expect(res.body.error).toMatch(message);
    expect((await api.get('/api/topology')).body).toEqual(topology());
  });

  it('places a plan that fits one VM on the existing instance', async () => {
    const res = await api.put('/api/execute').send(plan([1, 1]));
    expect(res.status).toBe(200);
    expect(res.body.status).toBe('succeeded');
    expect(cloud.group(GROUP).desiredCapacity).toBe(1);

    const engines = await enginesReport();
    expect(Object.keys(engines)).toEqual([first]);
    const { [`${APP}_web`]: web, [`${APP}_db`]: db } = engines[first];
    expect([web.memory, db.memory]).toEqual([mb(1), mb(1)]);
    expect([cores(web.cpuset).length, cores(db.cpuset).length]).toEqual([1, 1]);
    expect(cores(web.cpuset)).not.toEqual(cores(db.cpuset));
    expect(web.running && db.running).toBe(true);
  });

  it('comes back after a restart with the fleet rebuilt from the group and the engines', async () => {
    const before = (await api.get('/api/allocation')).body;
    await restartDaemon();
    expect((await api.get('/api/allocation')).body).toEqual(before);
    expect((await api.put('/api/execute').send(plan([1, 1]))).body.actions).toEqual([]);
  });

  it('fails cleanly when the new instance never becomes usable: group restored, allocation unchanged', async () => {
    expect((await api.put('/api/topology').send(topology(3))).status).toBe(200);
    const before = (await api.get('/api/allocation')).body;
    cloud.breakNextInstances(1);

    const res = await api.put('/api/execute').send(plan([3, 3]));

    expect(res.status).toBe(502);
    expect(res.body.status).toBe('failed');
    const createVm = res.body.steps.flat().find((r: { action: { type: string } }) => r.action.type === 'create_vm');
    expect(createVm).toMatchObject({ status: 'failed', error: expect.stringMatching(/not usable within 3000 ms/) });
    expect(createVm.progress.join('\n')).toMatch(/does not answer/);
    const group = cloud.group(GROUP);
    expect(group.desiredCapacity).toBe(1);
    expect(group.instances.map((i) => i.instanceId)).toEqual([first]);
    expect((await api.get('/api/allocation')).body).toEqual(before);
    expect(Object.keys(await enginesReport())).toEqual([first]);
  });

  it('grows the group for a plan that needs a second VM and places containers on its engine', async () => {
    expect((await api.put('/api/topology').send(topology())).status).toBe(200);
    const res = await api.put('/api/execute').send(plan([3, 3]));
    expect(res.status).toBe(200);
    expect(res.body.status).toBe('succeeded');
    expect(res.body.actions[0]).toEqual(["create vm 'new_vm0'"]);

    const group = cloud.group(GROUP);
    expect(group.desiredCapacity).toBe(2);
    expect(group.instances).toHaveLength(2);
    second = group.instances.find((i) => i.instanceId !== first)!.instanceId;

    // The engines report exactly what the allocation says, with whole cores and memory limits.
    const engines = await enginesReport();
    const allocation = (await api.get('/api/allocation')).body;
    expect(Object.keys(allocation).sort()).toEqual([first, second].sort());
    expect(allocation[second].ip).toBe(group.instances.find((i) => i.instanceId === second)!.address);
    let webCores = 0;
    for (const id of [first, second]) {
      const used = allocation[id].used as Record<string, { cpu_cores: number; mem_units: number }>;
      expect(Object.keys(engines[id]).sort()).toEqual(Object.keys(used).sort());
      const taken: number[] = [];
      for (const [tier, r] of Object.entries(used)) {
        expect(cores(engines[id][tier].cpuset)).toHaveLength(r.cpu_cores);
        expect(engines[id][tier].memory).toBe(mb(r.mem_units));
        expect(engines[id][tier].running).toBe(true);
        taken.push(...cores(engines[id][tier].cpuset));
        if (tier === `${APP}_web`) webCores += r.cpu_cores;
      }
      expect(new Set(taken).size).toBe(taken.length);
    }
    expect(webCores).toBe(3);
    expect(Object.keys(engines[second])).toContain(`${APP}_web`);
  });

  it('comes back after a restart with both instances', async () => {
    const before = (await api.get('/api/allocation')).body;
    await restartDaemon();
    expect((await api.get('/api/allocation')).body).toEqual(before);
  });

  it('empties the second VM for a smaller plan, then detaches and terminates exactly that instance', async () => {
    const res = await api.put('/api/execute').send(plan([1, 1]));
    expect(res.status).toBe(200);
    expect(res.body.status).toBe('succeeded');
    expect(res.body.actions.at(-1)).toEqual([`delete vm '${second}'`]);

    const group = cloud.group(GROUP);
    expect(group.desiredCapacity).toBe(1);
    expect(group.instances.map((i) => i.instanceId)).toEqual([first]);
    await cloud.settled();
    expect(cloud.instance(second)).toMatchObject({ ec2State: 'terminated', engineRunning: false });
    const engines = await enginesReport();
    expect(Object.keys(engines)).toEqual([first]);
    expect(Object.keys(engines[first]).sort()).toEqual([`${APP}_db`, `${APP}_web`]);
    expect(Object.keys((await api.get('/api/allocation')).body)).toEqual([first]);
  });

  it('fails a plan whose VM engine is down with a clear record; the next plan converges once it is back', async () => {
    expect((await api.put('/api/execute').send(plan([3, 3]))).body.status).toBe('succeeded');
    const third = cloud.group(GROUP).instances.find((i) => i.instanceId !== first)!.instanceId;
    await cloud.stopEngine(third);

    const failed = await api.put('/api/execute').send(plan([1, 1]));
    expect(failed.status).toBe(502);
    expect(failed.body.status).toBe('failed');
    const records = failed.body.steps.flat() as Array<{ description: string; status: string; error?: string }>;
    expect(records.find((r) => r.description === `delete container '${APP}_web' from vm '${third}'`)).toMatchObject({ status: 'failed', error: expect.any(String) });
    expect(records.find((r) => r.description === `delete vm '${third}'`)?.status).toBe('skipped');
    expect(cloud.group(GROUP).desiredCapacity).toBe(2);

    await cloud.startEngine(third);
    const converged = await api.put('/api/execute').send(plan([1, 1]));
    expect(converged.status).toBe(200);
    expect(converged.body.status).toBe('succeeded');
    expect(cloud.group(GROUP)).toMatchObject({ desiredCapacity: 1, instances: [{ instanceId: first }] });
    expect(Object.keys((await api.get('/api/allocation')).body)).toEqual([first]);
  });
});

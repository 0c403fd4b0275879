import { DescribeInstancesCommand, EC2Client, TerminateInstancesCommand } from '@aws-sdk/client-ec2';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import request from 'supertest';
import { dockerClient } from '../../dev/local-cloud/dockerd-engine';
import { LocalCloud, startLocalCloud } from '../../dev/local-cloud/local-cloud';
import { Daemon, startDaemon } from '../../src/main';
import { LABEL_APP } from '../../src/drivers/docker/labels';
import { waitFor } from '../support/wait-for';

/**
 * Instances that leave the Auto Scaling group behind the daemon's back, against the local cloud
 * (every instance a real dockerd): one terminated through the EC2 API, as an operator would with
 * `aws ec2 terminate-instances`, is lost at once and its tiers run again on the group's replacement;
 * an instance whose engine stops is `unreachable`. What runs where is asked of the engines.
 */
const suffix = randomBytes(3).toString('hex');
const GROUP = `ecoware-lost-${suffix}`;
const APP = `lost${suffix}`;
const ACCESS_KEY = 'AKIDECOWARELOST';
const TEST_IMAGE = process.env.ECOWARE_TEST_IMAGE ?? 'ecoware/busybox:latest';

let cloud: LocalCloud;
let dir: string;
let daemon: Daemon;
let api: ReturnType<typeof request>;

const topology = () => ({
  infrastructure: {
    cloud_driver: {
      autoscaling_groupname: GROUP, region: 'local-1', endpoint: cloud.endpoint, credentials: join(dir, 'credentials.conf'),
      instance_ready_timeout_s: 60,
    },
    cpu_cores: 2, mem_units: 4, mem_unit_mb: 32,
    // Lost after a minute of failed pings: a terminated instance must be noticed by the cloud watch, not by pings.
    node_health_interval_s: 1, node_lost_after_s: 60, reconcile_interval_s: 0,
  },
  apps: [{ name: APP, tiers: { web: { max_node: 1, docker_image: TEST_IMAGE }, db: { max_node: 1, docker_image: TEST_IMAGE } } }],
});

/** `{instanceId: [running container names]}` of every group member, from its engine. */
async function enginesReport(): Promise<Record<string, string[]>> {
  const report: Record<string, string[]> = {};
  for (const member of cloud.group(GROUP).instances) {
    if (member.lifecycleState !== 'InService' || !member.engineRunning) continue;
    const list = await dockerClient(member.address!, 2375).listContainers({ filters: { label: [`${LABEL_APP}=${APP}`] } });
    report[member.instanceId] = list.map((c) => c.Names[0].slice(1)).sort();
  }
  return report;
}

const nodes = async (): Promise<Array<{ name: string; health: string }>> => (await api.get('/api/nodes')).body;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ecoware-aws-lost-'));
  await writeFile(join(dir, 'credentials.conf'), `AWS_ACCESS_KEY_ID=${ACCESS_KEY}\nAWS_SECRET_ACCESS_KEY=not-a-secret\n`);
  cloud = await startLocalCloud({ accessKeyId: ACCESS_KEY, bootDelayMs: 1_000, groups: [{ name: GROUP, minSize: 0, maxSize: 3, desiredCapacity: 2 }] });
  daemon = await startDaemon({ port: 0, stateDir: join(dir, 'state'), solverTimeLimitMs: 5_000 });
  api = request(daemon.url);
}, 120_000);

afterAll(async () => {
  await daemon?.close();
  await cloud?.close();
  await rm(dir, { recursive: true, force: true });
}, 120_000);

describe('instances that leave the Auto Scaling group outside the daemon', () => {
  it('heals an instance terminated through the EC2 API onto the group\'s replacement, as a heal execution', async () => {
    expect((await api.put('/api/topology').send(topology())).status).toBe(200);
    // Each tier fills a VM, so the two run on the two instances.
    const placed = await api.put('/api/execute').send({ [APP]: { web: { cpu_cores: 2, mem_units: 2 }, db: { cpu_cores: 2, mem_units: 2 } } });
    expect(placed.body.status).toBe('succeeded');
    const before = await enginesReport();
    const victim = Object.keys(before).find((id) => before[id].includes(`${APP}_db`))!;
    const survivor = Object.keys(before).find((id) => id !== victim)!;
    expect(before[survivor]).toEqual([`${APP}_web`]);

    const ec2 = new EC2Client({ endpoint: cloud.endpoint, region: 'local-1', credentials: { accessKeyId: ACCESS_KEY, secretAccessKey: 'not-a-secret' } });
    const terminated = Date.now();
    const out = await ec2.send(new TerminateInstancesCommand({ InstanceIds: [victim] }));
    expect(out.TerminatingInstances?.[0]?.CurrentState?.Name).toBe('shutting-down');

    const healed = await waitFor(enginesReport, (r) => Object.entries(r).some(([id, names]) => id !== victim && id !== survivor && names.includes(`${APP}_db`)), 90_000, 200);
    const healedMs = Date.now() - terminated;
    console.log(`instance terminated -> healed placement ${healedMs} ms (node_health_interval_s 1, boot delay 1 s)`);

    const replacement = Object.keys(healed).find((id) => id !== victim && id !== survivor)!;
    expect(healed).toEqual({ [survivor]: [`${APP}_web`], [replacement]: [`${APP}_db`] });
    // The group's own replacement took the tier: no instance was launched beyond it.
    const group = cloud.group(GROUP);
    expect(group.desiredCapacity).toBe(2);
    expect(group.instances.map((i) => i.instanceId).sort()).toEqual([survivor, replacement].sort());
    expect((await ec2.send(new DescribeInstancesCommand({ InstanceIds: [victim] }))).Reservations?.[0]?.Instances?.[0]?.State?.Name)
      .toMatch(/shutting-down|terminated/);

    const executions = (await api.get('/api/executions')).body.objects as Array<{ id: string; kind: string; status: string }>;
    const heal = executions.find((e) => e.kind === 'heal');
    expect(heal).toMatchObject({ kind: 'heal', status: 'succeeded' });
    const allocation = (await api.get('/api/allocation')).body;
    expect(Object.keys(allocation).sort()).toEqual([survivor, replacement].sort());
    expect(allocation[replacement].used).toEqual({ [`${APP}_db`]: { cpu_cores: 2, mem_units: 2 } });
    expect((await nodes()).map((n) => n.name).sort()).toEqual([survivor, replacement].sort());
    ec2.destroy();
  }, 120_000);

  it('reports an instance whose engine stopped as unreachable, and ready when it is back', async () => {
    const member = cloud.group(GROUP).instances.find((i) => i.lifecycleState === 'InService')!.instanceId;
    await cloud.stopEngine(member);
    // From the moment its dockerd has exited (stopping it takes a while of its own).
    const stopped = Date.now();
    const down = await waitFor(nodes, (list) => list.find((n) => n.name === member)?.health === 'unreachable', 30_000, 100);
    console.log(`engine of an instance stopped -> unreachable ${Date.now() - stopped} ms (node_health_interval_s 1)`);
    expect(down.find((n) => n.name === member)).toMatchObject({ health: 'unreachable', schedulable: false });
    // Still in the group: unreachable, not gone, so nothing is healed before node_lost_after_s.
    expect((await api.get('/api/executions')).body.objects.filter((e: { kind: string }) => e.kind === 'heal')).toHaveLength(1);

    await cloud.startEngine(member);
    const up = await waitFor(nodes, (list) => list.find((n) => n.name === member)?.health === 'ready', 30_000, 100);
    expect(up.find((n) => n.name === member)).toMatchObject({ health: 'ready', schedulable: true });
  }, 90_000);
});

import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AutoScalingClient, SetInstanceProtectionCommand } from '@aws-sdk/client-auto-scaling';
import { EC2Client, TerminateInstancesCommand } from '@aws-sdk/client-ec2';
import { dockerClient } from '../../dev/local-cloud/dockerd-engine';
import { LocalCloud, startLocalCloud } from '../../dev/local-cloud/local-cloud';
import { InfrastructureError, UnsatisfiableError } from '../../src/domain/errors';
import { AwsCloudConfig } from '../../src/domain/topology';
import { Vm } from '../../src/domain/vm';
import { AwsCloudDriver, AwsCloudDriverOptions } from '../../src/drivers/aws/aws-cloud-driver';
import { runtimesByEngine } from '../../src/drivers/runtime-drivers';

/**
 * The driver with the real SDK clients against the local cloud, whose instances are real dockerd
 * engines: what the tests check is what the cloud and the engines report, not what the driver says.
 */
const ACCESS_KEY = 'AKIDECOWARETEST';
const TEST_IMAGE = process.env.ECOWARE_TEST_IMAGE ?? 'ecoware/busybox:latest';
const VM_SIZE = { cpu_cores: 2, mem_units: 8 };
const FAST_POLL: AwsCloudDriverOptions = { pollInitialMs: 100, pollMaxMs: 500 };
const suffix = randomBytes(3).toString('hex');
const GROUP = `ecoware-aws-test-${suffix}`;
const CAPPED = `ecoware-aws-capped-${suffix}`;

let cloud: LocalCloud;
let dir: string;
let credentialsFile: string;

function config(overrides: Partial<AwsCloudConfig> = {}): AwsCloudConfig {
  return {
    type: 'aws', autoscalingGroupName: GROUP, endpoint: cloud.endpoint, credentialsFile, addressType: 'private',
    dockerPort: 2375, allowRaiseMaxSize: false, instanceReadyTimeoutMs: 30_000, ...overrides,
  };
}

function driver(overrides: Partial<AwsCloudConfig> = {}): AwsCloudDriver {
  return new AwsCloudDriver(config(overrides), VM_SIZE, runtimesByEngine(), FAST_POLL);
}

function requestsSince(mark: number, action?: string) {
  return cloud.requests.slice(mark).filter((r) => action === undefined || r.action === action);
}

async function engineAnswers(endpoint: string): Promise<boolean> {
  const url = new URL(endpoint.replace(/^tcp:/, 'http:'));
  const timeout = new Promise<never>((_, reject) => setTimeout(() => reject(new Error('ping timed out')), 2_000).unref());
  try {
    await Promise.race([dockerClient(url.hostname, Number(url.port)).ping(), timeout]);
    return true;
  } catch {
    return false;
  }
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ecoware-aws-'));
  credentialsFile = join(dir, 'credentials.conf');
  await writeFile(credentialsFile, `# ecoware style\nAWS_ACCESS_KEY_ID=${ACCESS_KEY}\nAWS_SECRET_ACCESS_KEY="not-a-secret"\nAWS_DEFAULT_REGION=local-1\n`);
  cloud = await startLocalCloud({
    accessKeyId: ACCESS_KEY,
    bootDelayMs: 1_000,
    groups: [
      { name: GROUP, minSize: 0, maxSize: 3, desiredCapacity: 1 },
      { name: CAPPED, minSize: 0, maxSize: 0, desiredCapacity: 0 },
    ],
  });
});

afterAll(async () => {
  await cloud?.close();
  await rm(dir, { recursive: true, force: true });
});

describe('AwsCloudDriver against the local cloud', () => {
  let initial: Vm;

  it('lists the group\'s InService instance as a VM named by its instance id, signed with the file\'s credentials', async () => {
    const mark = cloud.requests.length;
    const vms = await driver().listVms();

    const [member] = cloud.group(GROUP).instances;
    expect(vms).toEqual([{
      name: member.instanceId, instanceId: member.instanceId, address: member.address,
      capacity: VM_SIZE, engine: { kind: 'docker' as const, url: `tcp://${member.address}:2375` },
    }]);
    expect(await engineAnswers(vms[0].engine.url)).toBe(true);
    expect(await driver().maxVms()).toBe(3);
    const signed = requestsSince(mark);
    expect(signed.length).toBeGreaterThan(0);
    expect(signed.every((r) => r.accessKeyId === ACCESS_KEY && r.region === 'local-1')).toBe(true);
    initial = vms[0];
  });

  it('reaches instances over TLS when given client certificates', async () => {
    const [vm] = await driver({ dockerCertPath: '/etc/ecoware/docker-certs', dockerPort: 2376 }).listVms();
    expect(vm.engine).toEqual({ kind: 'docker', url: `https://${initial.address}:2376`, certPath: '/etc/ecoware/docker-certs' });
  });

  let added: Vm;

  it('createVms(1) raises the desired capacity to 2 and returns an instance whose engine runs the test image', async () => {
    const progress: string[] = [];
    const vms = await driver().createVms(1, { onProgress: (m) => progress.push(m) });

    expect(vms).toHaveLength(1);
    added = vms[0];
    const group = cloud.group(GROUP);
    expect(group.desiredCapacity).toBe(2);
    const member = group.instances.find((i) => i.instanceId === added.name);
    expect(member).toMatchObject({ lifecycleState: 'InService', address: added.address });
    expect(added.name).not.toBe(initial.name);
    expect(added.engine.url).toBe(`tcp://${member!.address}:2375`);
    expect(progress).toContain(`desired capacity of '${GROUP}' 1 -> 2`);

    const docker = dockerClient(added.address!, 2375);
    const container = await docker.createContainer({
      Image: TEST_IMAGE, name: `ecoware-aws-test-${suffix}`, Labels: { 'io.ecoware.test': 'aws' },
      HostConfig: { CpusetCpus: '0', Memory: 64 * 1024 * 1024 },
    });
    await container.start();
    const inspected = await container.inspect();
    expect(inspected.State.Running).toBe(true);
    expect(inspected.HostConfig.CpusetCpus).toBe('0');
    // deleteVm is only for VMs whose containers are gone.
    for (const c of await docker.listContainers({ all: true, filters: { label: ['io.ecoware.test=aws'] } })) {
      await docker.getContainer(c.Id).remove({ force: true });
    }
    expect(await driver().listVms()).toEqual(expect.arrayContaining([initial, added]));
  });

  it('deleteVm detaches and terminates exactly that instance; desired capacity back to 1, its engine gone', async () => {
    const mark = cloud.requests.length;
    const progress: string[] = [];
    await driver().deleteVm(added, { onProgress: (m) => progress.push(m) });

    const group = cloud.group(GROUP);
    expect(group.desiredCapacity).toBe(1);
    expect(group.instances.map((i) => i.instanceId)).toEqual([initial.name]);
    expect(requestsSince(mark, 'DetachInstances')).toHaveLength(1);
    expect(requestsSince(mark, 'TerminateInstances')).toHaveLength(1);
    await cloud.settled();
    expect(cloud.instance(added.name)).toMatchObject({ ec2State: 'terminated', engineRunning: false });
    expect(await engineAnswers(added.engine.url)).toBe(false);
    expect(await engineAnswers(initial.engine.url)).toBe(true);
    expect(await driver().listVms()).toEqual([initial]);
  });

  it('never removes an instance protected from scale-in, and says so', async () => {
    const client = new AutoScalingClient({
      endpoint: cloud.endpoint, region: 'local-1', credentials: { accessKeyId: ACCESS_KEY, secretAccessKey: 'x' },
    });
    const protect = (on: boolean) => client.send(new SetInstanceProtectionCommand({
      AutoScalingGroupName: GROUP, InstanceIds: [initial.name], ProtectedFromScaleIn: on,
    }));
    await protect(true);
    try {
      const mark = cloud.requests.length;
      const progress: string[] = [];
      await driver().deleteVm(initial, { onProgress: (m) => progress.push(m) });

      expect(progress.join('\n')).toContain(`${initial.name} is protected from scale-in`);
      expect(cloud.group(GROUP)).toMatchObject({ desiredCapacity: 1, instances: [{ instanceId: initial.name, lifecycleState: 'InService' }] });
      expect(requestsSince(mark, 'DetachInstances')).toHaveLength(0);
      expect(requestsSince(mark, 'TerminateInstances')).toHaveLength(0);
      expect(await engineAnswers(initial.engine.url)).toBe(true);
    } finally {
      await protect(false);
    }
  });

  it('refuses to grow past MaxSize unless allowed to raise it', async () => {
    const mark = cloud.requests.length;
    const refused = driver({ autoscalingGroupName: CAPPED }).createVms(1);
    await expect(refused).rejects.toThrow(UnsatisfiableError);
    await expect(refused).rejects.toThrow(/MaxSize is 0/);
    expect(requestsSince(mark, 'SetDesiredCapacity')).toHaveLength(0);
    expect(cloud.group(CAPPED)).toMatchObject({ desiredCapacity: 0, maxSize: 0, instances: [] });
    expect(await driver({ autoscalingGroupName: CAPPED }).maxVms()).toBe(0);

    const raising = driver({ autoscalingGroupName: CAPPED, allowRaiseMaxSize: true });
    expect(await raising.maxVms()).toBeUndefined();
    const [vm] = await raising.createVms(1);
    expect(cloud.group(CAPPED)).toMatchObject({ desiredCapacity: 1, maxSize: 1 });
    expect(await engineAnswers(vm.engine.url)).toBe(true);
    await raising.deleteVm(vm);
    expect(cloud.group(CAPPED)).toMatchObject({ desiredCapacity: 0, instances: [] });
  });

  it('gives up on an instance whose engine never answers, removes it and restores the desired capacity', async () => {
    cloud.breakNextInstances(1);
    const progress: string[] = [];
    const failing = driver({ instanceReadyTimeoutMs: 4_000 }).createVms(1, { onProgress: (m) => progress.push(m) });

    const error = await failing.catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InfrastructureError);
    expect((error as InfrastructureError).code).toBe('cloud_timeout');
    expect((error as Error).message).toMatch(/1 of 1 new instance\(s\) of Auto Scaling group .* not usable within 4000 ms/);
    expect((error as Error).message).toMatch(/does not answer/);
    const broken = progress.map((m) => /^(i-[0-9a-f]+) InService/.exec(m)?.[1]).find(Boolean)!;
    expect(broken).toBeDefined();
    expect(progress.join('\n')).toContain(`desired capacity of '${GROUP}' back to 1`);

    const group = cloud.group(GROUP);
    expect(group.desiredCapacity).toBe(1);
    expect(group.instances.map((i) => i.instanceId)).toEqual([initial.name]);
    await cloud.settled();
    expect(cloud.instance(broken)).toMatchObject({ ec2State: 'terminated', broken: true });
  });

  it('a cancelled scale-out terminates the still Pending instance it added and restores the desired capacity', async () => {
    const controller = new AbortController();
    const mark = cloud.requests.length;
    const cancelled = driver().createVms(1, {
      signal: controller.signal,
      onProgress: (m) => { if (m.startsWith('desired capacity')) controller.abort(); },
    });

    await expect(cancelled).rejects.toMatchObject({ code: 'cancelled', message: expect.stringContaining('desired capacity restored to 1') });
    expect(requestsSince(mark, 'TerminateInstanceInAutoScalingGroup')).toHaveLength(1);
    expect(cloud.group(GROUP).desiredCapacity).toBe(1);
    await cloud.settled();
    expect(cloud.group(GROUP).instances.map((i) => i.instanceId)).toEqual([initial.name]);
  });

  describe('an instance the group is replacing on its own', () => {
    /** A second member, then terminated through EC2 as an operator would: the group launches its replacement. */
    async function replaceASecondMember(breakReplacement: boolean): Promise<string> {
      const [second] = await driver().createVms(1);
      if (breakReplacement) cloud.breakNextInstances(1);
      const ec2 = new EC2Client({ endpoint: cloud.endpoint, region: 'local-1', credentials: { accessKeyId: ACCESS_KEY, secretAccessKey: 'x' } });
      await ec2.send(new TerminateInstancesCommand({ InstanceIds: [second.name] }));
      ec2.destroy();
      const pending = cloud.group(GROUP).instances.filter((i) => i.lifecycleState === 'Pending');
      expect(pending).toHaveLength(1);
      expect(cloud.group(GROUP).desiredCapacity).toBe(2);
      return pending[0].instanceId;
    }

    it('counts the Pending replacement as the new VM instead of raising the desired capacity', async () => {
      const replacement = await replaceASecondMember(false);
      const mark = cloud.requests.length;
      const progress: string[] = [];

      const vms = await driver().createVms(1, { onProgress: (m) => progress.push(m) });

      expect(vms.map((vm) => vm.name)).toEqual([replacement]);
      expect(requestsSince(mark, 'SetDesiredCapacity')).toHaveLength(0);
      expect(progress[0]).toContain(`${replacement} launched by '${GROUP}'`);
      expect(cloud.group(GROUP).desiredCapacity).toBe(2);
      expect(await engineAnswers(vms[0].engine.url)).toBe(true);

      await driver().deleteVm(vms[0]);
      await cloud.settled();
      expect(cloud.group(GROUP)).toMatchObject({ desiredCapacity: 1, instances: [{ instanceId: initial.name }] });
    });

    it('removes a counted replacement that never becomes usable, so the group holds what the caller knows', async () => {
      const replacement = await replaceASecondMember(true);

      const failing = driver({ instanceReadyTimeoutMs: 3_000 }).createVms(1);

      await expect(failing).rejects.toMatchObject({ code: 'cloud_timeout', message: expect.stringContaining('desired capacity restored to 1') });
      await cloud.settled();
      expect(cloud.group(GROUP)).toMatchObject({ desiredCapacity: 1, instances: [{ instanceId: initial.name }] });
      expect(cloud.instance(replacement)).toMatchObject({ ec2State: 'terminated', broken: true });
    });
  });

  it('retries throttled calls of both services and succeeds', async () => {
    const mark = cloud.requests.length;
    cloud.throttleNext(3, 'DescribeAutoScalingGroups');
    cloud.throttleNext(2, 'DescribeInstances');

    expect(await driver().listVms()).toEqual([initial]);

    expect(requestsSince(mark, 'DescribeAutoScalingGroups').map((r) => r.errorCode ?? 'ok')).toEqual(['Throttling', 'Throttling', 'Throttling', 'ok']);
    expect(requestsSince(mark, 'DescribeInstances').map((r) => r.errorCode ?? 'ok')).toEqual(['RequestLimitExceeded', 'RequestLimitExceeded', 'ok']);
  });

  it('fails with the AWS error code once the attempts are used up', async () => {
    cloud.throttleNext(2, 'DescribeAutoScalingGroups');
    const failing = driver({ apiMaxAttempts: 2 }).listVms();
    await expect(failing).rejects.toThrow(InfrastructureError);
    await expect(failing).rejects.toMatchObject({ code: 'cloud', message: expect.stringMatching(/DescribeAutoScalingGroups failed: Throttling: Rate exceeded \(after 2 attempts\)/) });
  });

  it('reports credentials the cloud rejects, and a missing credentials file', async () => {
    const wrong = join(dir, 'wrong.conf');
    await writeFile(wrong, 'AWS_ACCESS_KEY_ID=AKIDWRONG\nAWS_SECRET_ACCESS_KEY=x\n');
    await expect(driver({ credentialsFile: wrong }).listVms()).rejects.toMatchObject({ code: 'cloud', message: expect.stringContaining('InvalidClientTokenId') });
    await expect(driver({ credentialsFile: join(dir, 'missing.conf') }).listVms()).rejects.toThrow(UnsatisfiableError);
  });

  it('reports a group that does not exist', async () => {
    await expect(driver({ autoscalingGroupName: `no-such-group-${suffix}` }).listVms()).rejects.toThrow(/Auto Scaling group 'no-such-group-.*' does not exist/);
  });
});

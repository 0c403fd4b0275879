import {
  AutoScalingClient, AutoScalingGroup, DescribeAutoScalingGroupsCommand, DetachInstancesCommand, Instance as GroupInstance,
  SetDesiredCapacityCommand, TerminateInstanceInAutoScalingGroupCommand, UpdateAutoScalingGroupCommand,
} from '@aws-sdk/client-auto-scaling';
import { DescribeInstancesCommand, EC2Client, TerminateInstancesCommand } from '@aws-sdk/client-ec2';
import { InfrastructureError, UnsatisfiableError } from '../../domain/errors';
import { Resources } from '../../domain/resources';
import { AwsCloudConfig } from '../../domain/topology';
import { EngineEndpoint, Vm } from '../../domain/vm';
import { CloudDriver, ProvisionOptions } from '../../ports/cloud-driver';
import { ContainerRuntimeFactory } from '../../ports/container-runtime';
import { FileCredentials, readCredentialsFile } from './aws-credentials-file';

/** Knobs of the driver itself (not of the topology): how it polls and how long one ping may take. */
export interface AwsCloudDriverOptions {
  /** First wait between two looks at the group while instances boot; grows by half up to pollMaxMs. */
  pollInitialMs?: number;
  pollMaxMs?: number;
  pingTimeoutMs?: number;
}

export const DEFAULT_API_MAX_ATTEMPTS = 5;
const DEFAULT_REGION = 'us-east-1';

type Progress = (message: string) => void;

/**
 * VMs are the InService instances of one Auto Scaling group, named by instance id, reached at
 * their private (or public) address on the Docker port, all of the infrastructure's size.
 *
 * Scale out raises the desired capacity (less the instances the group is already launching on its
 * own, e.g. to replace a terminated member, which count as new) and waits, polling with a growing interval, up to
 * instanceReadyTimeoutMs, until the new instances are InService, have an address and their engine
 * answers a ping. It is all or nothing: when the wait fails (timeout, cancel, API error), every
 * instance the call added is detached and terminated and the desired capacity goes back to its value
 * before the call, so the group never keeps capacity the allocation does not know about.
 *
 * Scale in detaches exactly the given instance with ShouldDecrementDesiredCapacity (so the group
 * does not replace it) and terminates it. An instance protected from scale-in is never removed: it
 * stays in the group, and the progress record says so.
 *
 * Throttling and transient API errors are retried by the SDK's standard retry strategy
 * (apiMaxAttempts attempts, exponential backoff with jitter); what still fails becomes an
 * InfrastructureError with code `cloud` naming the AWS error code.
 */
export class AwsCloudDriver implements CloudDriver {
  readonly kind = 'aws';
  readonly isElastic = true;
  private readonly autoScaling: AutoScalingClient;
  private readonly ec2: EC2Client;
  private readonly group: string;
  /** Changes of the group's size run one at a time: each reads the desired capacity and writes it back. */
  private mutations: Promise<unknown> = Promise.resolve();
  private fileCredentials?: Promise<FileCredentials>;

  constructor(
    private readonly config: AwsCloudConfig,
    private readonly vmSize: Resources,
    private readonly runtimeFactory: ContainerRuntimeFactory,
    private readonly options: AwsCloudDriverOptions = {},
  ) {
    this.group = config.autoscalingGroupName;
    const credentialsFile = config.credentialsFile;
    const fromFile = credentialsFile ? () => (this.fileCredentials ??= readCredentialsFile(credentialsFile, config.profile)) : undefined;
    const clientConfig = {
      endpoint: config.endpoint,
      region: config.region ?? (async () =>
        (fromFile ? (await fromFile()).region : undefined) ?? process.env.AWS_REGION ?? process.env.AWS_DEFAULT_REGION ?? DEFAULT_REGION),
      // Without a file the SDK's default chain applies: environment, shared files (of `profile` when
      // given), SSO, instance role.
      profile: credentialsFile ? undefined : config.profile,
      credentials: fromFile
        ? async () => {
          const { accessKeyId, secretAccessKey, sessionToken } = await fromFile();
          return { accessKeyId, secretAccessKey, sessionToken };
        }
        : undefined,
      maxAttempts: config.apiMaxAttempts ?? DEFAULT_API_MAX_ATTEMPTS,
      retryMode: 'standard',
      requestHandler: { connectionTimeout: 5_000, requestTimeout: 30_000 },
    };
    this.autoScaling = new AutoScalingClient(clientConfig);
    this.ec2 = new EC2Client(clientConfig);
  }

  async listVms(): Promise<Vm[]> {
    const group = await this.describeGroup();
    const inService = (group.Instances ?? []).filter((i) => i.LifecycleState === 'InService').map((i) => i.InstanceId!);
    const addresses = await this.addressesOf(inService);
    // An instance without the configured kind of address cannot be reached, so it is not part of the fleet.
    return inService
      .filter((id) => addresses.has(id))
      .sort()
      .map((id) => this.toVm(id, addresses.get(id)!));
  }

  async maxVms(): Promise<number | undefined> {
    if (this.config.allowRaiseMaxSize) return undefined;
    return (await this.describeGroup()).MaxSize;
  }

  createVms(count: number, options: ProvisionOptions = {}): Promise<Vm[]> {
    if (count <= 0) return Promise.resolve([]);
    return this.serialized(() => this.scaleOut(count, options));
  }

  deleteVm(vm: Vm, options: ProvisionOptions = {}): Promise<void> {
    return this.serialized(() => this.scaleIn(vm, options.onProgress ?? (() => undefined)));
  }

  private serialized<T>(work: () => Promise<T>): Promise<T> {
    const run = this.mutations.then(work, work);
    this.mutations = run.catch(() => undefined);
    return run;
  }

  private async scaleOut(count: number, options: ProvisionOptions): Promise<Vm[]> {
    const progress: Progress = options.onProgress ?? (() => undefined);
    throwIfAborted(options.signal);
    const group = await this.describeGroup();
    // Instances still Pending were launched by the group itself (a replacement of a member that was
    // terminated or failed its health check; the driver's own scale-outs wait until InService): they
    // are on their way already, so they count towards `count` instead of launching more.
    const pending = (group.Instances ?? []).filter((i) => /^Pending/.test(i.LifecycleState ?? '')).map((i) => i.InstanceId!).slice(0, count);
    const before = new Set((group.Instances ?? []).map((i) => i.InstanceId!).filter((id) => !pending.includes(id)));
    const desired = group.DesiredCapacity ?? 0;
    const target = desired + count - pending.length;
    const maxSize = group.MaxSize ?? 0;
    if (pending.length > 0) progress(`${pending.join(', ')} launched by '${this.group}' (replacing an instance) counted as new`);
    if (target > maxSize) {
      if (!this.config.allowRaiseMaxSize) {
        throw new UnsatisfiableError(
          `Auto Scaling group '${this.group}' cannot grow to ${target} instances: its MaxSize is ${maxSize} ` +
          '(raise MaxSize, or set allow_raise_max_size in the cloud_driver)',
        );
      }
      await this.call('Auto Scaling', 'UpdateAutoScalingGroup', () =>
        this.autoScaling.send(new UpdateAutoScalingGroupCommand({ AutoScalingGroupName: this.group, MaxSize: target })));
      progress(`MaxSize of '${this.group}' ${maxSize} -> ${target}`);
    }
    if (target > desired) {
      await this.call('Auto Scaling', 'SetDesiredCapacity', () =>
        this.autoScaling.send(new SetDesiredCapacityCommand({ AutoScalingGroupName: this.group, DesiredCapacity: target, HonorCooldown: false })));
      progress(`desired capacity of '${this.group}' ${desired} -> ${target}`);
    }

    try {
      return await this.waitForNewInstances(before, count, options.signal, progress);
    } catch (err) {
      // The group's own launches that were counted as new go too: the group keeps what the caller knows.
      const known = desired - pending.length;
      const rollback = await this.rollBack(before, known, progress).then(() => undefined, (e: unknown) => e);
      const suffix = rollback ? `; rolling back failed too: ${messageOf(rollback)}` : `; the new instances were removed and desired capacity restored to ${known}`;
      if (err instanceof InfrastructureError) throw new InfrastructureError(`${err.message}${suffix}`, err.code, err.cause);
      throw new InfrastructureError(`${messageOf(err)}${suffix}`, options.signal?.aborted ? 'cancelled' : 'cloud', err);
    }
  }

  /**
   * Polls until `count` instances that were not in `before` are InService, have an address and
   * answer a ping. The interval grows by half from pollInitialMs to pollMaxMs (2 s by default: at
   * most ~30 DescribeAutoScalingGroups a minute, and a new instance is noticed within 2 s of being
   * InService) and never overshoots the deadline.
   */
  private async waitForNewInstances(before: Set<string>, count: number, signal: AbortSignal | undefined, progress: Progress): Promise<Vm[]> {
    const timeoutMs = this.config.instanceReadyTimeoutMs;
    const deadline = Date.now() + timeoutMs;
    const pingTimeoutMs = this.options.pingTimeoutMs ?? 3_000;
    const usable = new Map<string, Vm>();
    const lastReported = new Map<string, string>();
    const report = (id: string, status: string) => {
      if (lastReported.get(id) === status) return;
      lastReported.set(id, status);
      progress(`${id} ${status}`);
    };
    let waitMs = this.options.pollInitialMs ?? 200;

    for (;;) {
      throwIfAborted(signal);
      const group = await this.describeGroup();
      const fresh = (group.Instances ?? []).filter((i) => !before.has(i.InstanceId!) && !usable.has(i.InstanceId!));
      for (const i of fresh) if (i.LifecycleState !== 'InService') report(i.InstanceId!, i.LifecycleState ?? 'unknown');
      const inService = fresh.filter((i) => i.LifecycleState === 'InService').map((i) => i.InstanceId!);
      const addresses = await this.addressesOf(inService);
      for (const id of inService) {
        if (usable.size >= count) break;
        const address = addresses.get(id);
        if (!address) {
          report(id, `InService, no ${this.config.addressType} address yet`);
          continue;
        }
        const vm = this.toVm(id, address);
        try {
          await this.runtimeFactory(vm).ping(pingTimeoutMs);
          usable.set(id, vm);
          report(id, `InService, engine answers at ${vm.engine.url}`);
        } catch {
          report(id, `InService, engine at ${vm.engine.url} does not answer yet`);
        }
      }
      if (usable.size >= count) return [...usable.values()].slice(0, count);

      const now = Date.now();
      if (now >= deadline) {
        const waiting = [...lastReported].filter(([id]) => !usable.has(id)).map(([id, status]) => `${id} ${status}`);
        throw new InfrastructureError(
          `${count - usable.size} of ${count} new instance(s) of Auto Scaling group '${this.group}' not usable within ${timeoutMs} ms` +
          (waiting.length > 0 ? ` (${waiting.join('; ')})` : ' (no new instance appeared)'),
          'cloud_timeout',
        );
      }
      await sleep(Math.min(waitMs, deadline - now), signal);
      waitMs = Math.min(waitMs * 1.5, this.options.pollMaxMs ?? 2_000);
    }
  }

  /**
   * Removes every instance that appeared since `before` and brings the desired capacity back to
   * `desired`. InService instances are detached (decrementing) and terminated, like deleteVm; the
   * others cannot be detached, so Auto Scaling terminates them itself, decrementing too.
   */
  private async rollBack(before: Set<string>, desired: number, progress: Progress): Promise<void> {
    const group = await this.describeGroup();
    const added = (group.Instances ?? []).filter((i) => !before.has(i.InstanceId!));
    const inService = added.filter((i) => i.LifecycleState === 'InService').map((i) => i.InstanceId!);
    const other = added.filter((i) => i.LifecycleState !== 'InService' && !isLeaving(i));
    if (inService.length > 0) {
      await this.call('Auto Scaling', 'DetachInstances', () => this.autoScaling.send(new DetachInstancesCommand({
        AutoScalingGroupName: this.group, InstanceIds: inService, ShouldDecrementDesiredCapacity: true,
      })));
      await this.terminate(inService);
      progress(`rolled back: detached and terminated ${inService.join(', ')}`);
    }
    for (const i of other) {
      await this.call('Auto Scaling', 'TerminateInstanceInAutoScalingGroup', () => this.autoScaling.send(new TerminateInstanceInAutoScalingGroupCommand({
        InstanceId: i.InstanceId!, ShouldDecrementDesiredCapacity: true,
      })));
      progress(`rolled back: terminated ${i.InstanceId} (${i.LifecycleState})`);
    }
    // Instances that were never launched are covered by lowering the desired capacity itself.
    const after = await this.describeGroup();
    if ((after.DesiredCapacity ?? 0) > desired) {
      await this.call('Auto Scaling', 'SetDesiredCapacity', () =>
        this.autoScaling.send(new SetDesiredCapacityCommand({ AutoScalingGroupName: this.group, DesiredCapacity: desired, HonorCooldown: false })));
    }
    progress(`desired capacity of '${this.group}' back to ${desired}`);
  }

  private async scaleIn(vm: Vm, progress: Progress): Promise<void> {
    const id = vm.instanceId ?? vm.name;
    const group = await this.describeGroup();
    const member = (group.Instances ?? []).find((i) => i.InstanceId === id);
    if (member?.ProtectedFromScaleIn) {
      progress(`${id} is protected from scale-in: left running in '${this.group}'`);
      return;
    }
    if (member && isLeaving(member)) {
      progress(`${id} is already ${member.LifecycleState}`);
      return;
    }
    if (member?.LifecycleState === 'InService' || member?.LifecycleState === 'Standby') {
      await this.call('Auto Scaling', 'DetachInstances', () => this.autoScaling.send(new DetachInstancesCommand({
        AutoScalingGroupName: this.group, InstanceIds: [id], ShouldDecrementDesiredCapacity: true,
      })));
      progress(`${id} detached from '${this.group}', desired capacity ${group.DesiredCapacity} -> ${(group.DesiredCapacity ?? 1) - 1}`);
    } else if (member) {
      await this.call('Auto Scaling', 'TerminateInstanceInAutoScalingGroup', () => this.autoScaling.send(new TerminateInstanceInAutoScalingGroupCommand({
        InstanceId: id, ShouldDecrementDesiredCapacity: true,
      })));
      progress(`${id} (${member.LifecycleState}) terminated by '${this.group}', desired capacity decremented`);
      return;
    } else {
      // Not a member any more: an earlier attempt detached it and then failed to terminate it.
      progress(`${id} is no longer in '${this.group}'`);
    }
    await this.terminate([id]);
    progress(`${id} terminating`);
  }

  private async terminate(ids: string[]): Promise<void> {
    try {
      await this.call('EC2', 'TerminateInstances', () => this.ec2.send(new TerminateInstancesCommand({ InstanceIds: ids })));
    } catch (err) {
      // Terminating an instance that is already gone is done.
      if (!(err instanceof InfrastructureError && /InvalidInstanceID\.NotFound/.test(err.message))) throw err;
    }
  }

  private async describeGroup(): Promise<AutoScalingGroup> {
    const out = await this.call('Auto Scaling', 'DescribeAutoScalingGroups', () =>
      this.autoScaling.send(new DescribeAutoScalingGroupsCommand({ AutoScalingGroupNames: [this.group] })));
    const group = out.AutoScalingGroups?.find((g) => g.AutoScalingGroupName === this.group);
    if (!group) throw new UnsatisfiableError(`Auto Scaling group '${this.group}' does not exist${this.config.endpoint ? ` at ${this.config.endpoint}` : ''}`);
    return group;
  }

  /** The configured address of each instance that has one. */
  private async addressesOf(ids: string[]): Promise<Map<string, string>> {
    const addresses = new Map<string, string>();
    if (ids.length === 0) return addresses;
    let nextToken: string | undefined;
    do {
      const out = await this.call('EC2', 'DescribeInstances', () =>
        this.ec2.send(new DescribeInstancesCommand({ InstanceIds: ids, NextToken: nextToken })));
      for (const reservation of out.Reservations ?? []) {
        for (const instance of reservation.Instances ?? []) {
          const address = this.config.addressType === 'public' ? instance.PublicIpAddress : instance.PrivateIpAddress;
          if (instance.InstanceId && address && instance.State?.Name === 'running') addresses.set(instance.InstanceId, address);
        }
      }
      nextToken = out.NextToken;
    } while (nextToken);
    return addresses;
  }

  private toVm(instanceId: string, address: string): Vm {
    const host = address.includes(':') ? `[${address}]` : address;
    const engine: EngineEndpoint = this.config.dockerCertPath
      ? { kind: 'docker', url: `https://${host}:${this.config.dockerPort}`, certPath: this.config.dockerCertPath }
      : { kind: 'docker', url: `tcp://${host}:${this.config.dockerPort}` };
    return { name: instanceId, instanceId, address, capacity: { ...this.vmSize }, engine };
  }

  /** Every API call goes through here, so every failure reads the same: service, operation, AWS code, message. */
  private async call<T>(service: 'Auto Scaling' | 'EC2', operation: string, send: () => Promise<T>): Promise<T> {
    try {
      return await send();
    } catch (err) {
      // The credentials provider's own refusal (unreadable file) passes through the SDK unchanged.
      if (err instanceof UnsatisfiableError) throw err;
      const e = err as { name?: string; code?: string; message?: string; $metadata?: { attempts?: number } };
      const code = e.code ?? e.name ?? 'Error';
      const attempts = e.$metadata?.attempts;
      throw new InfrastructureError(
        `AWS ${service} ${operation} failed: ${code}: ${e.message ?? String(err)}${attempts && attempts > 1 ? ` (after ${attempts} attempts)` : ''}`,
        'cloud',
        err,
      );
    }
  }
}

function isLeaving(i: GroupInstance): boolean {
  return /^(Terminating|Terminated|Detaching|Detached)/.test(i.LifecycleState ?? '');
}

function throwIfAborted(signal?: AbortSignal): void {
  if (signal?.aborted) throw new InfrastructureError('cancelled while waiting for new instances', 'cancelled');
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

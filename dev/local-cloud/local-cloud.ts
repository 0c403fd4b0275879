import { randomBytes } from 'node:crypto';
import { mkdir, readdir, rm } from 'node:fs/promises';
import { createServer, IncomingMessage, Server, ServerResponse } from 'node:http';
import { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { saveImages } from './image-archive';
import { delay, DockerdEngine, SlotRange } from './dockerd-engine';
import {
  autoScalingError, autoScalingResponse, booleanParam, ec2Error, ec2Response, el, integerParam, items, listParam,
  members, newRequestId, parseQuery, QueryError, QueryParams, requiredParam, XmlNode,
} from './query-protocol';

/**
 * A development cloud on this machine: an endpoint that speaks enough of the Auto Scaling
 * (2011-01-01) and EC2 (2016-11-15) query APIs for the executor's AWS driver, where every instance is
 * a real dockerd on its own 127.0.0.N address and bridge.
 *
 * Instance lifecycle, as the group reports it:
 *
 *   launch ──> Pending ──(engine up, images loaded, boot delay elapsed)──> InService
 *   InService ──DetachInstances──> (out of the group, still running) ──TerminateInstances──> terminated
 *   InService ──scale-in / TerminateInstances──> Terminating ──(engine stopped, slot freed)──> gone
 *
 * A "broken" instance reaches InService like any other but its engine never starts, as when a
 * machine image's Docker service fails: only a client that pings the engine notices.
 */
export interface LocalCloudOptions {
  /** 0 (default) picks a free port. */
  port?: number;
  groups?: GroupOptions[];
  /** Time from launch to InService; the engine's own start-up overlaps it. */
  bootDelayMs?: number;
  /** Images copied into every instance's engine, as if baked into the machine image. */
  images?: string[];
  /** Engine the images are taken from; default DOCKER_HOST or the default socket. */
  sourceDocker?: string;
  /** Where instances keep their engine directories. */
  stateDir?: string;
  /** Instances get addresses 127.0.0.first..last. */
  firstSlot?: number;
  lastSlot?: number;
  dockerPort?: number;
  /** When set, requests must be signed with this access key id (proves which credentials a client used). */
  accessKeyId?: string;
  region?: string;
  log?: (line: string) => void;
}

export interface GroupOptions {
  name: string;
  minSize: number;
  maxSize: number;
  desiredCapacity: number;
}

export type LifecycleState = 'Pending' | 'InService' | 'Terminating';
export type Ec2State = 'pending' | 'running' | 'shutting-down' | 'terminated';

export interface InstanceSnapshot {
  instanceId: string;
  ec2State: Ec2State;
  /** Set while the instance belongs to a group. */
  groupName?: string;
  lifecycleState?: LifecycleState;
  protectedFromScaleIn: boolean;
  address?: string;
  dockerEndpoint?: string;
  broken: boolean;
  /** True while its dockerd process runs. */
  engineRunning: boolean;
  launchedAt: number;
  inServiceAt?: number;
}

export interface GroupSnapshot {
  name: string;
  minSize: number;
  maxSize: number;
  desiredCapacity: number;
  instances: InstanceSnapshot[];
}

export interface RequestRecord {
  service: 'autoscaling' | 'ec2';
  action: string;
  /** AWS error code when the request failed. */
  errorCode?: string;
  /** Access key id and region from the request's signature. */
  accessKeyId?: string;
  region?: string;
  atMs: number;
}

export interface LocalCloud {
  /** http://127.0.0.1:PORT — give it to both SDK clients as `endpoint`. */
  readonly endpoint: string;
  readonly region: string;
  group(name: string): GroupSnapshot;
  instance(instanceId: string): InstanceSnapshot | undefined;
  /** Every API request so far, oldest first. */
  readonly requests: readonly RequestRecord[];
  /** The next `count` requests (of `action` only, when given) fail with the service's throttling error. */
  throttleNext(count: number, action?: string): void;
  /** The next `count` launched instances never start their engine. */
  breakNextInstances(count: number): void;
  /** The instance's Docker engine goes down (the instance stays InService), as when dockerd dies. */
  stopEngine(instanceId: string): Promise<void>;
  /** Brings a stopped engine back, with the containers it had (stopped, as after a crash). */
  startEngine(instanceId: string): Promise<void>;
  /** Resolves when no launch or termination is in progress. */
  settled(): Promise<void>;
  close(): Promise<void>;
}

const DEFAULT_GROUP: GroupOptions = { name: 'ecoware-local', minSize: 0, maxSize: 4, desiredCapacity: 1 };

interface Instance {
  id: string;
  engine?: DockerdEngine;
  ec2State: Ec2State;
  groupName?: string;
  lifecycleState?: LifecycleState;
  protectedFromScaleIn: boolean;
  broken: boolean;
  launchedAt: number;
  inServiceAt?: number;
  /** Settles when the boot sequence is over (in service, or given up). */
  booting: Promise<void>;
  terminating?: Promise<void>;
}

interface Group {
  name: string;
  minSize: number;
  maxSize: number;
  desiredCapacity: number;
  createdAt: Date;
}

export async function startLocalCloud(options: LocalCloudOptions = {}): Promise<LocalCloud> {
  const cloud = new LocalCloudServer(options);
  try {
    await cloud.start(options.port ?? 0);
  } catch (err) {
    await cloud.close();
    throw err;
  }
  return cloud;
}

class LocalCloudServer implements LocalCloud {
  readonly region: string;
  readonly requests: RequestRecord[] = [];
  private readonly groups = new Map<string, Group>();
  private readonly instances = new Map<string, Instance>();
  private readonly throttles: Array<{ action?: string }> = [];
  private brokenLaunches = 0;
  private readonly work = new Set<Promise<void>>();
  private server?: Server;
  private port = 0;
  private imageTars: string[] = [];
  private readonly imagesDir: string;
  private readonly slots: SlotRange;
  private readonly log: (line: string) => void;
  private closing = false;

  constructor(private readonly options: LocalCloudOptions) {
    this.region = options.region ?? 'local-1';
    const stateDir = options.stateDir ?? '/var/lib/ecoware-local-cloud';
    this.imagesDir = join(stateDir, `images-${process.pid}-${randomBytes(3).toString('hex')}`);
    this.slots = { prefix: 'ecolc', first: options.firstSlot ?? 100, last: options.lastSlot ?? 199, subnetOctet: 231, rootDir: stateDir };
    this.log = options.log ?? (() => undefined);
    for (const g of options.groups ?? [DEFAULT_GROUP]) {
      if (!(g.minSize <= g.desiredCapacity && g.desiredCapacity <= g.maxSize)) throw new Error(`group ${g.name}: need minSize <= desiredCapacity <= maxSize`);
      this.groups.set(g.name, { ...g, createdAt: new Date() });
    }
  }

  get endpoint(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  async start(port: number): Promise<void> {
    await removeStaleImageDirs(this.slots.rootDir);
    await mkdir(this.imagesDir, { recursive: true });
    const images = this.options.images ?? [process.env.ECOWARE_TEST_IMAGE ?? 'ecoware/busybox:latest'];
    this.imageTars = await saveImages(images, this.imagesDir, this.options.sourceDocker);
    this.server = createServer((req, res) => {
      this.handle(req, res).catch((err: unknown) => {
        this.log(`request failed: ${(err as Error).message}`);
        if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' });
        res.end();
      });
    });
    await new Promise<void>((resolve, reject) => {
      this.server!.once('error', reject);
      this.server!.listen(port, '127.0.0.1', () => resolve());
    });
    this.port = (this.server.address() as AddressInfo).port;
    for (const group of this.groups.values()) this.reconcile(group);
    await this.settled();
  }

  group(name: string): GroupSnapshot {
    const g = this.groups.get(name);
    if (!g) throw new Error(`no group ${name}`);
    return {
      name: g.name, minSize: g.minSize, maxSize: g.maxSize, desiredCapacity: g.desiredCapacity,
      instances: this.members(g).map((i) => this.snapshot(i)),
    };
  }

  instance(instanceId: string): InstanceSnapshot | undefined {
    const i = this.instances.get(instanceId);
    return i && this.snapshot(i);
  }

  throttleNext(count: number, action?: string): void {
    for (let n = 0; n < count; n++) this.throttles.push({ action });
  }

  breakNextInstances(count: number): void {
    this.brokenLaunches += count;
  }

  async stopEngine(instanceId: string): Promise<void> {
    const i = this.runningInstance(instanceId);
    this.log(`${i.id}: engine stopped`);
    await i.engine!.stop();
  }

  async startEngine(instanceId: string): Promise<void> {
    const i = this.runningInstance(instanceId);
    i.engine!.start();
    await i.engine!.waitReady();
    this.log(`${i.id}: engine started again`);
  }

  private runningInstance(instanceId: string): Instance {
    const i = this.instances.get(instanceId);
    if (!i || i.ec2State !== 'running' || !i.engine || i.broken) throw new Error(`${instanceId} is not a running instance with an engine`);
    return i;
  }

  async settled(): Promise<void> {
    while (this.work.size > 0) await Promise.allSettled([...this.work]);
  }

  async close(): Promise<void> {
    if (this.closing) return;
    this.closing = true;
    const closed = new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
    // SDK clients keep connections alive; close() alone would wait for them.
    this.server?.closeAllConnections();
    await closed;
    await this.settled();
    await Promise.allSettled([...this.instances.values()].map((i) => this.terminate(i)));
    await this.settled();
    await rm(this.imagesDir, { recursive: true, force: true });
  }

  private snapshot(i: Instance): InstanceSnapshot {
    return {
      instanceId: i.id,
      ec2State: i.ec2State,
      groupName: i.groupName,
      lifecycleState: i.lifecycleState,
      protectedFromScaleIn: i.protectedFromScaleIn,
      address: i.engine?.address,
      dockerEndpoint: i.engine?.endpoint,
      broken: i.broken,
      engineRunning: i.engine?.isRunning ?? false,
      launchedAt: i.launchedAt,
      inServiceAt: i.inServiceAt,
    };
  }

  private members(g: Group): Instance[] {
    return [...this.instances.values()].filter((i) => i.groupName === g.name);
  }

  private track(p: Promise<void>): void {
    this.work.add(p);
    void p.catch(() => undefined).finally(() => this.work.delete(p));
  }

  /** Brings the number of live members to the desired capacity, as the Auto Scaling service does. */
  private reconcile(g: Group): void {
    if (this.closing) return;
    const live = this.members(g).filter((i) => i.lifecycleState !== 'Terminating');
    for (let n = live.length; n < g.desiredCapacity; n++) this.launch(g);
    if (live.length > g.desiredCapacity) {
      // Scale-in never picks protected instances; newest go first.
      const candidates = live.filter((i) => !i.protectedFromScaleIn).sort((a, b) => b.launchedAt - a.launchedAt);
      for (const victim of candidates.slice(0, live.length - g.desiredCapacity)) void this.terminate(victim);
    }
  }

  private launch(g: Group): void {
    const instance: Instance = {
      id: `i-${randomBytes(9).toString('hex').slice(0, 17)}`,
      ec2State: 'pending',
      groupName: g.name,
      lifecycleState: 'Pending',
      protectedFromScaleIn: false,
      broken: this.brokenLaunches > 0,
      launchedAt: Date.now(),
      booting: Promise.resolve(),
    };
    if (instance.broken) this.brokenLaunches--;
    this.instances.set(instance.id, instance);
    this.log(`launch ${instance.id} in ${g.name}${instance.broken ? ' (its engine will never start)' : ''}`);
    instance.booting = this.boot(instance);
    this.track(instance.booting);
  }

  private async boot(instance: Instance): Promise<void> {
    const bootDelayMs = this.options.bootDelayMs ?? 1000;
    let engine: DockerdEngine;
    try {
      engine = await DockerdEngine.claim({ range: this.slots, dockerPort: this.options.dockerPort });
      instance.engine = engine;
      if (!instance.broken) {
        engine.start();
        await engine.waitReady();
        for (const tar of this.imageTars) await engine.loadImages(tar);
      }
    } catch (err) {
      // Like an instance that fails its status checks: it stays Pending and the client's wait times out.
      this.log(`launch ${instance.id} failed: ${(err as Error).message}`);
      return;
    }
    const remainingMs = instance.launchedAt + bootDelayMs - Date.now();
    if (remainingMs > 0) await delay(remainingMs);
    if (instance.ec2State !== 'pending') return;
    instance.ec2State = 'running';
    instance.inServiceAt = Date.now();
    if (instance.lifecycleState === 'Pending') instance.lifecycleState = 'InService';
    this.log(`${instance.id} InService at ${engine.address} after ${instance.inServiceAt - instance.launchedAt} ms`);
  }

  private terminate(instance: Instance): Promise<void> {
    if (instance.terminating) return instance.terminating;
    if (instance.ec2State === 'terminated') return Promise.resolve();
    instance.ec2State = 'shutting-down';
    if (instance.groupName) instance.lifecycleState = 'Terminating';
    instance.terminating = (async () => {
      await instance.booting;
      await instance.engine?.release().catch((err: unknown) => this.log(`${instance.id}: cleaning up its engine failed: ${(err as Error).message}`));
      instance.ec2State = 'terminated';
      instance.groupName = undefined;
      instance.lifecycleState = undefined;
      this.log(`${instance.id} terminated`);
    })();
    this.track(instance.terminating);
    return instance.terminating;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks).toString('utf8');
    const url = new URL(req.url ?? '/', 'http://local');
    if (url.pathname.startsWith('/_local/')) return this.handleControl(req.method ?? 'GET', url, res);

    const params = parseQuery(req.method === 'GET' ? url.search.slice(1) : body);
    const action = params.get('Action') ?? '';
    const version = params.get('Version') ?? '';
    const service = version === '2016-11-15' ? 'ec2' : 'autoscaling';
    const requestId = newRequestId();
    const record: RequestRecord = { service, action, atMs: Date.now(), ...signatureOf(req) };
    this.requests.push(record);
    try {
      if (version !== '2011-01-01' && version !== '2016-11-15') throw new QueryError('InvalidParameterValue', `unsupported API version '${version}'`);
      this.authorize(service, record);
      this.maybeThrottle(service, action);
      const xml = service === 'ec2' ? this.ec2(action, params, requestId) : this.autoScaling(action, params, requestId);
      res.writeHead(200, { 'content-type': 'text/xml', 'x-amzn-requestid': requestId });
      res.end(xml);
    } catch (err) {
      const error = err instanceof QueryError ? err : new QueryError('InternalFailure', (err as Error).message, 500);
      record.errorCode = error.code;
      this.log(`${action} -> ${error.code}: ${error.message}`);
      res.writeHead(error.httpStatus, { 'content-type': 'text/xml', 'x-amzn-requestid': requestId });
      res.end(service === 'ec2' ? ec2Error(error, requestId) : autoScalingError(error, requestId));
    }
  }

  /** Plain JSON helpers for the demo and manual poking: state, throttling and broken instances on demand. */
  private handleControl(method: string, url: URL, res: ServerResponse): void {
    const reply = (status: number, value: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(value, null, 2));
    };
    const count = Number(url.searchParams.get('count') ?? '1');
    if (method === 'GET' && url.pathname === '/_local/state') {
      return reply(200, { groups: [...this.groups.keys()].map((name) => this.group(name)) });
    }
    if (method === 'POST' && url.pathname === '/_local/throttle') {
      this.throttleNext(count, url.searchParams.get('action') ?? undefined);
      return reply(200, { throttled: count });
    }
    if (method === 'POST' && url.pathname === '/_local/break-next-instances') {
      this.breakNextInstances(count);
      return reply(200, { broken: count });
    }
    reply(404, { error: `no such control endpoint ${method} ${url.pathname}` });
  }

  private authorize(service: 'autoscaling' | 'ec2', record: RequestRecord): void {
    const expected = this.options.accessKeyId;
    if (expected === undefined || record.accessKeyId === expected) return;
    if (service === 'ec2') throw new QueryError('AuthFailure', 'AWS was not able to validate the provided access credentials', 401);
    throw new QueryError('InvalidClientTokenId', 'The security token included in the request is invalid.', 403);
  }

  private maybeThrottle(service: 'autoscaling' | 'ec2', action: string): void {
    const index = this.throttles.findIndex((t) => t.action === undefined || t.action === action);
    if (index < 0) return;
    this.throttles.splice(index, 1);
    if (service === 'ec2') throw new QueryError('RequestLimitExceeded', 'Request limit exceeded.', 503);
    throw new QueryError('Throttling', 'Rate exceeded', 400);
  }

  private requireGroup(params: QueryParams): Group {
    const name = requiredParam(params, 'AutoScalingGroupName');
    const g = this.groups.get(name);
    if (!g) throw new QueryError('ValidationError', `AutoScalingGroup name not found - no such group: ${name}`);
    return g;
  }

  private autoScaling(action: string, params: QueryParams, requestId: string): string {
    switch (action) {
      case 'DescribeAutoScalingGroups': {
        const names = listParam(params, 'AutoScalingGroupNames.member');
        const selected = [...this.groups.values()].filter((g) => names.length === 0 || names.includes(g.name));
        return autoScalingResponse(action, requestId, [el('AutoScalingGroups', ...members(selected.map((g) => this.groupXml(g))))]);
      }
      case 'SetDesiredCapacity': {
        const g = this.requireGroup(params);
        const desired = integerParam(params, 'DesiredCapacity');
        if (desired === undefined) throw new QueryError('ValidationError', "Value null at 'desiredCapacity' failed to satisfy constraint: Member must not be null");
        if (desired > g.maxSize) throw new QueryError('ValidationError', `New SetDesiredCapacity value ${desired} is above max value ${g.maxSize} for the AutoScalingGroup.`);
        if (desired < g.minSize) throw new QueryError('ValidationError', `New SetDesiredCapacity value ${desired} is below min value ${g.minSize} for the AutoScalingGroup.`);
        this.log(`${g.name}: desired capacity ${g.desiredCapacity} -> ${desired}`);
        g.desiredCapacity = desired;
        this.reconcile(g);
        return autoScalingResponse(action, requestId);
      }
      case 'UpdateAutoScalingGroup': {
        const g = this.requireGroup(params);
        const minSize = integerParam(params, 'MinSize') ?? g.minSize;
        const maxSize = integerParam(params, 'MaxSize') ?? g.maxSize;
        const desired = integerParam(params, 'DesiredCapacity') ?? g.desiredCapacity;
        if (minSize > maxSize) throw new QueryError('ValidationError', `Max bound, ${maxSize}, must be greater than or equal to min bound, ${minSize}`);
        if (desired < minSize || desired > maxSize) {
          throw new QueryError('ValidationError', `Desired capacity:${desired} must be between the specified min size:${minSize} and max size:${maxSize}`);
        }
        this.log(`${g.name}: min ${minSize} max ${maxSize} desired ${desired}`);
        Object.assign(g, { minSize, maxSize, desiredCapacity: desired });
        this.reconcile(g);
        return autoScalingResponse(action, requestId);
      }
      case 'DetachInstances': {
        const g = this.requireGroup(params);
        const ids = listParam(params, 'InstanceIds.member');
        const decrement = booleanParam(params, 'ShouldDecrementDesiredCapacity');
        if (decrement === undefined) throw new QueryError('ValidationError', "Value null at 'shouldDecrementDesiredCapacity' failed to satisfy constraint: Member must not be null");
        const detached = ids.map((id) => {
          const i = this.instances.get(id);
          if (!i || i.groupName !== g.name) throw new QueryError('ValidationError', `The instance ${id} is not part of Auto Scaling group ${g.name}.`);
          if (i.lifecycleState !== 'InService') throw new QueryError('ValidationError', `The instance ${id} is not in InService or Standby.`);
          return i;
        });
        if (decrement && g.desiredCapacity - detached.length < g.minSize) {
          throw new QueryError('ValidationError', `The number of instances in the AutoScalingGroup would go below the MinSize ${g.minSize}.`);
        }
        for (const i of detached) {
          i.groupName = undefined;
          i.lifecycleState = undefined;
          i.protectedFromScaleIn = false;
        }
        if (decrement) g.desiredCapacity -= detached.length;
        this.log(`${g.name}: detached ${ids.join(', ')}; desired capacity ${g.desiredCapacity}`);
        // Without the decrement the group launches replacements, as Auto Scaling does.
        this.reconcile(g);
        return autoScalingResponse(action, requestId, [
          el('Activities', ...members(detached.map((i) => [
            el('ActivityId', newRequestId()), el('AutoScalingGroupName', g.name),
            el('Description', `Detaching EC2 instance: ${i.id}`), el('Cause', 'instance detached by request'),
            el('StartTime', new Date().toISOString()), el('StatusCode', 'InProgress'), el('Progress', 50),
          ]))),
        ]);
      }
      case 'TerminateInstanceInAutoScalingGroup': {
        const id = requiredParam(params, 'InstanceId');
        const decrement = booleanParam(params, 'ShouldDecrementDesiredCapacity');
        if (decrement === undefined) throw new QueryError('ValidationError', "Value null at 'shouldDecrementDesiredCapacity' failed to satisfy constraint: Member must not be null");
        const i = this.instances.get(id);
        const g = i?.groupName ? this.groups.get(i.groupName) : undefined;
        if (!i || !g) throw new QueryError('ValidationError', `Instance Id not found - No managed instance found for instance ID: ${id}`);
        if (i.lifecycleState === 'Terminating') throw new QueryError('ScalingActivityInProgress', `The instance ${id} is already being terminated.`);
        if (decrement && g.desiredCapacity - 1 < g.minSize) {
          throw new QueryError('ValidationError', `Currently, desiredSize equals minSize (${g.minSize}). Terminating instance without replacement will violate group's min size constraint.`);
        }
        if (decrement) g.desiredCapacity -= 1;
        this.log(`${g.name}: terminating member ${id}; desired capacity ${g.desiredCapacity}`);
        void this.terminate(i);
        this.reconcile(g);
        return autoScalingResponse(action, requestId, [el('Activity',
          el('ActivityId', newRequestId()), el('AutoScalingGroupName', g.name),
          el('Description', `Terminating EC2 instance: ${id}`), el('Cause', 'instance terminated by request'),
          el('StartTime', new Date().toISOString()), el('StatusCode', 'InProgress'), el('Progress', 0),
        )]);
      }
      case 'SetInstanceProtection': {
        const g = this.requireGroup(params);
        const ids = listParam(params, 'InstanceIds.member');
        const isProtected = booleanParam(params, 'ProtectedFromScaleIn');
        if (isProtected === undefined) throw new QueryError('ValidationError', "Value null at 'protectedFromScaleIn' failed to satisfy constraint: Member must not be null");
        for (const id of ids) {
          const i = this.instances.get(id);
          if (!i || i.groupName !== g.name) throw new QueryError('ValidationError', `The instance ${id} is not part of Auto Scaling group ${g.name}.`);
          i.protectedFromScaleIn = isProtected;
        }
        return autoScalingResponse(action, requestId, []);
      }
      default:
        throw new QueryError('InvalidAction', `The action ${action} is not valid for this web service (local cloud).`);
    }
  }

  private groupXml(g: Group): XmlNode[] {
    return [
      el('AutoScalingGroupName', g.name),
      el('AutoScalingGroupARN', `arn:aws:autoscaling:${this.region}:000000000000:autoScalingGroup:local:autoScalingGroupName/${g.name}`),
      el('MinSize', g.minSize), el('MaxSize', g.maxSize), el('DesiredCapacity', g.desiredCapacity),
      el('DefaultCooldown', 300),
      el('AvailabilityZones', ...members([`${this.region}a`])),
      el('HealthCheckType', 'EC2'), el('HealthCheckGracePeriod', 0),
      el('Instances', ...members(this.members(g).map((i) => [
        el('InstanceId', i.id), el('InstanceType', 'local.engine'), el('AvailabilityZone', `${this.region}a`),
        el('LifecycleState', i.lifecycleState), el('HealthStatus', 'Healthy'),
        el('ProtectedFromScaleIn', i.protectedFromScaleIn),
      ]))),
      el('CreatedTime', g.createdAt.toISOString()),
      el('NewInstancesProtectedFromScaleIn', false),
    ];
  }

  private ec2(action: string, params: QueryParams, requestId: string): string {
    const lookup = (ids: string[]): Instance[] => ids.map((id) => {
      const i = this.instances.get(id);
      if (!i) throw new QueryError('InvalidInstanceID.NotFound', `The instance ID '${id}' does not exist`);
      return i;
    });
    switch (action) {
      case 'DescribeInstances': {
        const ids = listParam(params, 'InstanceId');
        const selected = ids.length > 0 ? lookup(ids) : [...this.instances.values()];
        return ec2Response(action, requestId, [el('reservationSet', ...items(selected.map((i) => [
          el('reservationId', `r-${i.id.slice(2)}`),
          el('ownerId', '000000000000'),
          el('instancesSet', ...items([this.instanceXml(i)])),
        ])))]);
      }
      case 'TerminateInstances': {
        const selected = lookup(listParam(params, 'InstanceId'));
        const changes = selected.map((i) => {
          const previous = i.ec2State;
          void this.terminate(i);
          const group = i.groupName ? this.groups.get(i.groupName) : undefined;
          // Terminating a member without detaching it first makes the group replace it.
          if (group) {
            this.log(`${i.id} terminated while in ${group.name}; the group will replace it`);
            this.reconcile(group);
          }
          return [el('instanceId', i.id), el('currentState', stateXml(i.ec2State)), el('previousState', stateXml(previous))];
        });
        return ec2Response(action, requestId, [el('instancesSet', ...items(changes))]);
      }
      default:
        throw new QueryError('InvalidAction', `The action ${action} is not valid for this web service (local cloud).`);
    }
  }

  private instanceXml(i: Instance): XmlNode[] {
    // Addresses go away with the instance, as in EC2.
    const address = i.ec2State === 'terminated' ? undefined : i.engine?.address;
    return [
      el('instanceId', i.id),
      el('imageId', 'ami-localengine'),
      el('instanceState', stateXml(i.ec2State)),
      el('instanceType', 'local.engine'),
      el('launchTime', new Date(i.launchedAt).toISOString()),
      el('placement', el('availabilityZone', `${this.region}a`)),
      address === undefined ? undefined : el('privateIpAddress', address),
      address === undefined || i.ec2State !== 'running' ? undefined : el('ipAddress', address),
      el('tagSet', ...items(i.groupName ? [[el('key', 'aws:autoscaling:groupName'), el('value', i.groupName)]] : [])),
    ];
  }
}

/** Image archives of local clouds whose process is gone (killed before close()). */
async function removeStaleImageDirs(stateDir: string): Promise<void> {
  for (const entry of await readdir(stateDir).catch(() => [] as string[])) {
    const pid = Number(/^images-(\d+)-/.exec(entry)?.[1]);
    if (!pid || pid === process.pid) continue;
    let alive = true;
    try { process.kill(pid, 0); } catch { alive = false; }
    if (!alive) await rm(join(stateDir, entry), { recursive: true, force: true });
  }
}

const STATE_CODES: Record<Ec2State, number> = { pending: 0, running: 16, 'shutting-down': 32, terminated: 48 };

function stateXml(state: Ec2State): XmlNode[] {
  return [el('code', STATE_CODES[state]), el('name', state)];
}

/** `Credential=AKID/date/region/service/aws4_request` of a SigV4 Authorization header. */
function signatureOf(req: IncomingMessage): { accessKeyId?: string; region?: string } {
  const m = /Credential=([^/]+)\/[^/]+\/([^/]+)\//.exec(req.headers.authorization ?? '');
  return m ? { accessKeyId: m[1], region: m[2] } : {};
}

import Docker from 'dockerode';
import { NotFoundError, UnsatisfiableError } from '../../domain/errors';
import { SystemMount } from '../../domain/system-tier';
import { SystemContainerSpec } from '../../ports/container-runtime';
import { EngineCall } from './engine-call';
import { LABEL_HOST_PORTS, LABEL_MANAGED, LABEL_NAMESPACE, LABEL_SERVICE, LABEL_SYSTEM } from './labels';

const NANOS_PER_MS = 1_000_000;

/**
 * What the containers of a system need on a node besides an ordinary tier's container: the system's
 * network (services reach each other by name on it), its named volumes (created, labelled, on first
 * mount), healthchecks, and host ports the daemon chooses itself.
 *
 * Host ports: the lowest port of the range that no container of the engine publishes (running or
 * not: a stopped container keeps its explicit binding) and that no create in flight on this runtime
 * holds; a port the container had before on this node is taken again when free. The choice is written
 * into the binding (so `docker restart` and engine restarts keep it) and into a label (so a restarted
 * daemon reads it back). A port some process outside Docker holds shows up only when the engine fails
 * to bind it; the runtime then tries the next one.
 */
export class DockerSystemResources {
  private readonly reserved = new Set<number>();
  private readonly networksInFlight = new Map<string, Promise<void>>();

  constructor(private readonly docker: Docker, private readonly call: EngineCall) {}

  /** Creates the system's network and named volumes on this engine where they are missing. */
  async provision(spec: SystemContainerSpec): Promise<void> {
    await this.ensureNetwork(spec.network, spec.sid);
    await this.ensureVolumes(spec.mounts, { [LABEL_SYSTEM]: spec.sid });
  }

  /**
   * Adds the system's settings to a create body (after `provision`); answers the host ports
   * reserved for it (release them after).
   */
  async prepare(spec: SystemContainerSpec, body: Docker.ContainerCreateOptions, excluded: ReadonlySet<number>): Promise<number[]> {
    const chosen = await this.chooseHostPorts(spec, excluded);
    const hostConfig = body.HostConfig ?? {};
    const exposed: Record<string, object> = { ...(body.ExposedPorts ?? {}) };
    const bindings: Record<string, { HostPort: string }[]> = { ...(hostConfig.PortBindings ?? {}) };
    for (const [key, port] of Object.entries(chosen)) {
      exposed[key] = {};
      bindings[key] = [{ HostPort: String(port) }];
    }
    body.ExposedPorts = exposed;
    if (spec.entrypoint) body.Entrypoint = spec.entrypoint;
    if (spec.healthcheck) {
      const hc = spec.healthcheck;
      body.Healthcheck = {
        Test: hc.test,
        ...(hc.intervalMs !== undefined ? { Interval: hc.intervalMs * NANOS_PER_MS } : {}),
        ...(hc.timeoutMs !== undefined ? { Timeout: hc.timeoutMs * NANOS_PER_MS } : {}),
        ...(hc.startPeriodMs !== undefined ? { StartPeriod: hc.startPeriodMs * NANOS_PER_MS } : {}),
        ...(hc.startIntervalMs !== undefined ? { StartInterval: hc.startIntervalMs * NANOS_PER_MS } : {}),
        ...(hc.retries !== undefined ? { Retries: hc.retries } : {}),
      } as Docker.ContainerCreateOptions['Healthcheck'];
    }
    // The system's own labels first: the executor's labels always win.
    body.Labels = {
      ...spec.labels, [LABEL_NAMESPACE]: spec.namespace, [LABEL_SERVICE]: spec.service,
      ...(body.Labels ?? {}), [LABEL_SYSTEM]: spec.sid, [LABEL_HOST_PORTS]: formatHostPorts(chosen),
    };
    body.HostConfig = {
      ...hostConfig,
      PortBindings: bindings,
      NetworkMode: spec.network,
      Mounts: engineMounts(spec.mounts),
      ...(spec.restart ? { RestartPolicy: { Name: spec.restart.policy === 'no' ? '' : spec.restart.policy, MaximumRetryCount: spec.restart.maxRetries ?? 0 } } : {}),
    };
    body.NetworkingConfig = { EndpointsConfig: { [spec.network]: { Aliases: [spec.service] } } };
    return Object.values(chosen);
  }

  release(ports: number[]): void {
    for (const port of ports) this.reserved.delete(port);
  }

  async removeSystemResources(sid: string, options: { volumes: boolean }): Promise<{ networks: string[]; volumes: string[] }> {
    const filters = { label: [`${LABEL_SYSTEM}=${sid}`, `${LABEL_MANAGED}=true`] };
    const networks = await this.call(`list networks of system ${sid}`, (abortSignal) => this.docker.listNetworks({ filters, abortSignal }));
    const removedNetworks: string[] = [];
    for (const n of networks) {
      await this.ignoreMissing(this.call(`remove network '${n.Name}'`, (abortSignal) => this.docker.getNetwork(n.Id).remove({ abortSignal })));
      removedNetworks.push(n.Name);
    }
    const removedVolumes: string[] = [];
    if (options.volumes) {
      for (const name of await this.listSystemVolumes(sid)) {
        await this.ignoreMissing(this.call(`remove volume '${name}'`, (abortSignal) => this.docker.getVolume(name).remove({ abortSignal })));
        removedVolumes.push(name);
      }
    }
    return { networks: removedNetworks, volumes: removedVolumes };
  }

  async listSystemVolumes(sid: string): Promise<string[]> {
    const filters = { label: [`${LABEL_SYSTEM}=${sid}`, `${LABEL_MANAGED}=true`] };
    const answer = await this.call(`list volumes of system ${sid}`, (abortSignal) => this.docker.listVolumes({ filters, abortSignal }));
    return (answer.Volumes ?? []).map((v) => v.Name).sort();
  }

  /** Host ports published on this engine by any container, running or not, plus those reserved here. */
  async usedHostPorts(): Promise<Set<number>> {
    const used = new Set<number>(this.reserved);
    const containers = await this.call('list containers for host ports', (abortSignal) => this.docker.listContainers({ all: true, abortSignal }));
    const stopped: string[] = [];
    for (const c of containers) {
      for (const p of c.Ports ?? []) if (p.PublicPort) used.add(p.PublicPort);
      for (const port of Object.values(parseHostPorts(c.Labels?.[LABEL_HOST_PORTS]))) used.add(port);
      if (c.State !== 'running') stopped.push(c.Id);
    }
    // A stopped container publishes nothing now but takes its explicit bindings back when started.
    await Promise.all(stopped.map(async (id) => {
      try {
        const info = await this.call('inspect container for host ports', (abortSignal) => this.docker.getContainer(id).inspect({ abortSignal }));
        for (const bindings of Object.values(info.HostConfig?.PortBindings ?? {}) as ({ HostPort?: string }[] | null)[]) {
          for (const b of bindings ?? []) if (b.HostPort && /^\d+$/.test(b.HostPort)) used.add(Number(b.HostPort));
        }
      } catch (err) {
        if (!(err instanceof NotFoundError)) throw err;
      }
    }));
    return used;
  }

  private async chooseHostPorts(spec: SystemContainerSpec, excluded: ReadonlySet<number>): Promise<Record<string, number>> {
    if (spec.publish.length === 0) return {};
    const used = await this.usedHostPorts();
    const { first, last } = spec.hostPortRange;
    const isFree = (port: number) => port >= first && port <= last && !used.has(port) && !excluded.has(port);
    const chosen: Record<string, number> = {};
    let next = first;
    for (const p of spec.publish) {
      const key = `${p.containerPort}/${p.protocol}`;
      let port = spec.preferredHostPorts[key];
      if (port === undefined || !isFree(port)) {
        while (next <= last && !isFree(next)) next++;
        if (next > last) {
          this.release(Object.values(chosen));
          throw new UnsatisfiableError(`no free host port left in ${first}-${last} on this node`);
        }
        port = next;
      }
      used.add(port);
      this.reserved.add(port);
      chosen[key] = port;
    }
    return chosen;
  }

  /** One create at a time per name: the engine would otherwise accept two networks of the same name. */
  private async ensureNetwork(name: string, sid: string): Promise<void> {
    const pending = this.networksInFlight.get(name);
    if (pending) return pending;
    const work = (async () => {
      const existing = await this.call(`list network '${name}'`, (abortSignal) => this.docker.listNetworks({ filters: { name: [name] }, abortSignal }));
      if (existing.some((n) => n.Name === name)) return;
      await this.call(`create network '${name}'`, (abortSignal) => this.docker.createNetwork({
        Name: name, Driver: 'bridge', CheckDuplicate: true, Labels: { [LABEL_MANAGED]: 'true', [LABEL_SYSTEM]: sid }, abortSignal,
      } as Docker.NetworkCreateOptions));
    })();
    this.networksInFlight.set(name, work);
    try {
      await work;
    } finally {
      this.networksInFlight.delete(name);
    }
  }

  /** The named volumes of the mounts that the node lacks are created, labelled managed (and with `labels`). */
  async ensureVolumes(mounts: readonly SystemMount[], labels: Record<string, string>): Promise<void> {
    for (const mount of mounts) if (mount.type === 'volume') await this.ensureVolume(mount, labels);
  }

  /** A named volume is created, labelled as managed, on the node where it is first mounted. */
  private async ensureVolume(mount: Extract<SystemMount, { type: 'volume' }>, labels: Record<string, string>): Promise<void> {
    try {
      await this.call(`inspect volume '${mount.volume}'`, (abortSignal) => this.docker.getVolume(mount.volume).inspect({ abortSignal }));
      return;
    } catch (err) {
      if (!(err instanceof NotFoundError)) throw err;
    }
    if (mount.external) throw new UnsatisfiableError(`external volume '${mount.volume}' does not exist on this node`);
    await this.call(`create volume '${mount.volume}'`, (abortSignal) => this.docker.createVolume({
      Name: mount.volume,
      ...(mount.driver ? { Driver: mount.driver } : {}),
      DriverOpts: mount.driverOpts,
      Labels: { ...labels, [LABEL_MANAGED]: 'true' },
      abortSignal,
    }));
  }

  private async ignoreMissing(work: Promise<unknown>): Promise<void> {
    try {
      await work;
    } catch (err) {
      if (!(err instanceof NotFoundError)) throw err;
    }
  }
}

/** Mounts as the engine takes them in HostConfig.Mounts. */
export function engineMounts(mounts: readonly SystemMount[]): Docker.MountSettings[] {
  return mounts.map((m) => (m.type === 'volume'
    ? { Type: 'volume' as const, Source: m.volume, Target: m.target, ReadOnly: m.readOnly }
    : { Type: 'bind' as const, Source: m.source, Target: m.target, ReadOnly: m.readOnly }));
}

export function formatHostPorts(ports: Record<string, number>): string {
  return Object.entries(ports).map(([key, port]) => `${key}=${port}`).join(',');
}

export function parseHostPorts(label: string | undefined): Record<string, number> {
  const out: Record<string, number> = {};
  for (const part of (label ?? '').split(',')) {
    const m = /^(\d+\/(?:tcp|udp))=(\d+)$/.exec(part.trim());
    if (m) out[m[1]] = Number(m[2]);
  }
  return out;
}

/** The engine could not bind a host port (another process holds it, or a race with another engine client). */
export function isPortConflict(err: unknown): boolean {
  const message = err instanceof Error ? err.message : String(err);
  return /port is already allocated|address already in use|failed to bind/i.test(message);
}

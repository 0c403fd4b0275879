import Docker from 'dockerode';
import { ConflictError, NotFoundError } from '../../domain/errors';
import { NodeVolume, NodeVolumeSpec } from '../../ports/container-runtime';
import { LABEL_MANAGED } from './labels';
import { EngineCall } from './engine-call';

/** The volumes of one engine for the node volumes API: list with their users, create, remove. */
export class DockerNodeVolumes {
  constructor(private readonly docker: Docker, private readonly call: EngineCall) {}

  async list(): Promise<NodeVolume[]> {
    const answer = await this.call('list volumes', (abortSignal) => this.docker.listVolumes({ abortSignal }));
    const users = await this.users();
    return (answer.Volumes ?? [])
      .map((v) => toNodeVolume(v, users.get(v.Name) ?? []))
      .sort((a, b) => a.name.localeCompare(b.name));
  }

  async create(spec: NodeVolumeSpec): Promise<NodeVolume> {
    await this.call(`create volume '${spec.name}'`, (abortSignal) => this.docker.createVolume({
      Name: spec.name, Driver: spec.driver, DriverOpts: spec.driverOpts, Labels: { ...spec.labels, [LABEL_MANAGED]: 'true' }, abortSignal,
    }));
    const created = await this.call(`inspect volume '${spec.name}'`, (abortSignal) => this.docker.getVolume(spec.name).inspect({ abortSignal }));
    return toNodeVolume(created, []);
  }

  async remove(name: string): Promise<void> {
    await this.call(`inspect volume '${name}'`, (abortSignal) => this.docker.getVolume(name).inspect({ abortSignal }));
    // The engine answers 409 "volume is in use" naming container ids; name the containers instead.
    const using = (await this.users()).get(name) ?? [];
    if (using.length > 0) throw new ConflictError(`volume '${name}' is in use by container(s) ${using.map((c) => `'${c}'`).join(', ')}`);
    try {
      await this.call(`remove volume '${name}'`, (abortSignal) => this.docker.getVolume(name).remove({ abortSignal }));
    } catch (err) {
      if (err instanceof NotFoundError) return;
      if (/in use/i.test(err instanceof Error ? err.message : '')) throw new ConflictError(`volume '${name}' is in use`);
      throw err;
    }
  }

  /** Volume name -> names of the containers (any state) that mount it. */
  private async users(): Promise<Map<string, string[]>> {
    const containers = await this.call('list containers for volumes', (abortSignal) => this.docker.listContainers({ all: true, abortSignal }));
    const out = new Map<string, string[]>();
    for (const c of containers) {
      for (const m of c.Mounts ?? []) {
        if (m.Type !== 'volume' || !m.Name) continue;
        const list = out.get(m.Name) ?? [];
        list.push((c.Names?.[0] ?? c.Id).replace(/^\//, ''));
        out.set(m.Name, list);
      }
    }
    for (const list of out.values()) list.sort();
    return out;
  }
}

function toNodeVolume(v: Docker.VolumeInspectInfo, usedBy: string[]): NodeVolume {
  const labels = (v.Labels ?? {}) as Record<string, string>;
  return {
    name: v.Name,
    driver: v.Driver,
    driver_opts: ((v as { Options?: Record<string, string> | null }).Options ?? {}),
    labels,
    managed: labels[LABEL_MANAGED] === 'true',
    used_by: usedBy,
  };
}

import Docker from 'dockerode';
import { InfrastructureError, ValidationError } from '../../domain/errors';
import { ContainerSpec, ManagedContainer } from '../../ports/container-runtime';
import { engineMounts, parseHostPorts } from './docker-system-resources';
import { LABEL_APP, LABEL_FLAT_TIER, LABEL_HOST_PORTS, LABEL_MANAGED, LABEL_SYSTEM, LABEL_TIER, LABEL_VM } from './labels';

/** How a container spec becomes the engine's create request, and how the engine's inspect answer reads back. */

export const MIB = 1024 * 1024;

/** `"0-3,5"` → `[0, 1, 2, 3, 5]`; empty = no pinning. */
export function parseCpuset(cpusetCpus: string): number[] {
  const cores = new Set<number>();
  for (const part of cpusetCpus.split(',').map((p) => p.trim()).filter(Boolean)) {
    const range = /^(\d+)(?:-(\d+))?$/.exec(part);
    if (!range) throw new InfrastructureError(`unreadable cpuset '${cpusetCpus}'`);
    const from = Number(range[1]);
    const to = range[2] === undefined ? from : Number(range[2]);
    for (let core = from; core <= to; core++) cores.add(core);
  }
  return [...cores].sort((a, b) => a - b);
}

export function containerCreateBody(spec: ContainerSpec): Docker.ContainerCreateOptions {
  const memoryBytes = spec.memoryMb * MIB;
  const exposedPorts: Record<string, object> = {};
  const portBindings: Record<string, { HostIp?: string; HostPort: string }[]> = {};
  for (const port of spec.ports) {
    const key = `${port.containerPort}/${port.protocol}`;
    exposedPorts[key] = {};
    (portBindings[key] ??= []).push({ HostPort: String(port.hostPort), ...(port.hostIp ? { HostIp: port.hostIp } : {}) });
  }
  return {
    name: spec.name,
    Image: spec.image,
    // Cmd replaces the image's CMD; the image keeps its own when the tier gives no arguments.
    ...(spec.args.length > 0 ? { Cmd: spec.args } : {}),
    Env: Object.entries(spec.environment).map(([key, value]) => `${key}=${value}`),
    ExposedPorts: exposedPorts,
    Labels: {
      ...(spec.labels ?? {}),
      [LABEL_MANAGED]: 'true',
      [LABEL_APP]: spec.app,
      [LABEL_TIER]: spec.tier,
      [LABEL_FLAT_TIER]: spec.name,
      [LABEL_VM]: spec.vm,
    },
    HostConfig: {
      CpusetCpus: spec.cpuset.join(','),
      Memory: memoryBytes,
      // Swap equal to memory: no swap use, and later resizes never fail on memory > memsw.
      MemorySwap: memoryBytes,
      PortBindings: portBindings,
      ExtraHosts: spec.extraHosts.map((h) => `${h.host}:${h.address}`),
      RestartPolicy: { Name: 'unless-stopped' },
      ...(spec.mounts?.length ? { Mounts: engineMounts(spec.mounts) } : {}),
    },
  };
}

export function toManagedContainer(info: Docker.ContainerInspectInfo): ManagedContainer {
  const labels = info.Config?.Labels ?? {};
  const cpusetCpus = info.HostConfig?.CpusetCpus ?? '';
  return {
    id: info.Id,
    name: info.Name.replace(/^\//, ''),
    app: labels[LABEL_APP] ?? '',
    tier: labels[LABEL_TIER] ?? '',
    flatTier: labels[LABEL_FLAT_TIER] ?? '',
    vm: labels[LABEL_VM] ?? '',
    image: info.Config?.Image ?? '',
    state: info.State?.Status ?? 'unknown',
    cpuset: parseCpuset(cpusetCpus),
    cpusetCpus,
    memoryBytes: info.HostConfig?.Memory ?? 0,
    memorySwapBytes: info.HostConfig?.MemorySwap ?? 0,
    health: info.State?.Health?.Status || undefined,
    system: labels[LABEL_SYSTEM] || undefined,
    hostPorts: parseHostPorts(labels[LABEL_HOST_PORTS]),
    exitCode: info.State?.ExitCode,
  };
}

export function assertResources(cpuset: number[], memoryMb: number): void {
  if (cpuset.length === 0 || cpuset.some((c) => !Number.isInteger(c) || c < 0)) {
    throw new ValidationError('cpuset', `must list at least one core as non-negative integers, got [${cpuset.join(',')}]`);
  }
  if (!Number.isInteger(memoryMb) || memoryMb <= 0) throw new ValidationError('memoryMb', `must be a positive integer, got ${memoryMb}`);
}

/** A container id shortened as `docker ps` shows it; a name is quoted. */
export function shortId(id: string): string {
  return /^[0-9a-f]{64}$/.test(id) ? id.slice(0, 12) : `'${id}'`;
}

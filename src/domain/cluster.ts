import { Allocation, Placement, TierResources } from './allocation';
import { Resources } from './resources';
import { Vm } from './vm';

/** A tier's container on a VM, as the engines last reported it. */
export interface ContainerState {
  id: string;
  /** Flat tier name. */
  tier: string;
  resources: Resources;
  /** Cores it is pinned to, sorted. */
  cpuset: number[];
  /** Engine state (`running`, `exited`, `created` …), or `missing` when the engine no longer has it. */
  state: string;
}

export interface VmState {
  vm: Vm;
  /** By flat tier name: one container per tier per VM. */
  containers: Record<string, ContainerState>;
}

/** What runs where, by VM name: the executor's knowledge, rebuilt from the cloud and the engines. */
export type Cluster = Record<string, VmState>;

/** The VM of that name, if the fleet has one: a name from a request may be `constructor` or `__proto__`. */
export function vmStateOf(cluster: Cluster, name: string): VmState | undefined {
  return Object.hasOwn(cluster, name) ? cluster[name] : undefined;
}

/** The allocation in the ecoware format, for the solver and `GET /api/allocation`. */
export function allocationOf(cluster: Cluster): Allocation {
  const allocation: Allocation = {};
  for (const [name, state] of Object.entries(cluster)) {
    const used: TierResources = {};
    for (const c of Object.values(state.containers)) used[c.tier] = { ...c.resources };
    allocation[name] = { cpu_cores: state.vm.capacity.cpu_cores, mem_units: state.vm.capacity.mem_units, used };
  }
  return allocation;
}

/** A VM as `GET /api/allocation` and an execution's `allocation_after` show it. */
export interface VmReport {
  ip?: string;
  instance_id?: string;
  cpu_cores: number;
  mem_units: number;
  used: TierResources;
}

/** The allocation with each VM's address and cloud instance: what the API shows. */
export function reportOf(cluster: Cluster): Record<string, VmReport> {
  const report: Record<string, VmReport> = {};
  for (const [name, { vm }] of Object.entries(cluster)) {
    report[name] = { ip: vm.address, instance_id: vm.instanceId, ...allocationOf({ [name]: cluster[name] })[name] };
  }
  return report;
}

export function placementOfCluster(cluster: Cluster): Placement {
  const placement: Placement = {};
  for (const [name, state] of Object.entries(cluster)) {
    const containers = Object.values(state.containers);
    if (containers.length === 0) continue;
    placement[name] = Object.fromEntries(containers.map((c) => [c.tier, { ...c.resources }]));
  }
  return placement;
}

/** Resources from what an engine reports: cores = pinned cores, units = memory limit / unit size (rounded up). */
export function resourcesFromEngine(cpuset: number[], memoryBytes: number, memUnitMb: number): Resources {
  return {
    cpu_cores: cpuset.length,
    mem_units: memoryBytes > 0 ? Math.ceil(memoryBytes / (memUnitMb * 1024 * 1024)) : 0,
  };
}

/** A managed container as an engine lists it, made the executor's record of it (its resources read as in resourcesFromEngine). */
export function containerStateOf(
  c: { id: string; flatTier: string; cpuset: number[]; cpuCores?: number; state: string; memoryBytes: number },
  memUnitMb: number,
): ContainerState {
  const resources = resourcesFromEngine(c.cpuset, c.memoryBytes, memUnitMb);
  // A runtime that does not pin cores says how many the container holds instead.
  if (c.cpuset.length === 0 && c.cpuCores !== undefined) resources.cpu_cores = c.cpuCores;
  return { id: c.id, tier: c.flatTier, cpuset: c.cpuset, state: c.state, resources };
}

/**
 * Engine states of a container that exists but does not run and can be started again in place:
 * stopped (`docker stop`, a crashed engine leaves `unless-stopped` containers `exited`) or never
 * started (`created`: the executor stopped between create and start).
 */
const STARTABLE_STATES = new Set(['exited', 'created']);

/** True when the container holds its cores but does not run; a plan that keeps it starts it. */
export function needsStart(container: Pick<ContainerState, 'state'>): boolean {
  return STARTABLE_STATES.has(container.state);
}

/** State of a container the allocation lists but its engine no longer has (removed behind the executor's back). */
export const MISSING_STATE = 'missing';

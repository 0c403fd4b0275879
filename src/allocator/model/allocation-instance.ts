import { Allocation, Placement, TierResources } from '../../domain/allocation';
import { Resources } from '../../domain/resources';
import { newVmNames } from '../../domain/vm';
import { AllocationProblem } from '../allocator';
import { COST } from './cost-weights';

/** A VM the solver may use: an existing one with its own capacity, or a placeholder for a new one. */
export interface InstanceVm {
  name: string;
  cpu: number;
  mem: number;
  isNew: boolean;
  /** Containers of planned tiers that ran here before, by tier index. */
  prior: ReadonlyMap<number, Resources>;
  /**
   * The VM hosts containers outside this (sub)problem, so it is in use whatever happens here:
   * its own cost term is fixed and left out.
   */
  alwaysUsed?: boolean;
  /** Names of the tiers whose container here must stay (`keep`); absent = none. */
  kept?: ReadonlySet<string>;
}

export interface InstanceTier {
  name: string;
  cpu: number;
  mem: number;
  /** `max_node`, or unlimited (Infinity). */
  maxContainers: number;
  /** Cost of deleting one of its existing containers. */
  deleteWeight: number;
  /** Where it may run (`placeable`), by VM name; absent = anywhere. */
  placeable?: { vms: ReadonlySet<string>; newVms: boolean };
}

/**
 * The problem in index form: tiers and VMs numbered, new VMs materialised as placeholders.
 * VMs are ordered existing first, then `new` placeholders in name order.
 */
export interface AllocationInstance {
  vms: InstanceVm[];
  tiers: InstanceTier[];
  maxVms?: number;
  existingVmCount: number;
}

/**
 * Whether VM v may host a container of tier t (`placeable`). Constraints are kept by name, so that
 * sub-instances built from copies of the VMs and tiers carry them unchanged.
 */
export function mayHost(instance: AllocationInstance, v: number, t: number): boolean {
  const placeable = instance.tiers[t].placeable;
  if (!placeable) return true;
  const vm = instance.vms[v];
  return vm.isNew ? placeable.newVms : placeable.vms.has(vm.name);
}

/** Whether tier t's container on VM v must stay (`keep`). */
export function mustKeep(instance: AllocationInstance, v: number, t: number): boolean {
  return instance.vms[v].kept?.has(instance.tiers[t].name) ?? false;
}

/** What runs on each VM (index-aligned with `instance.vms`): tier index -> resources. */
export type Layout = Array<Map<number, Resources>>;

/**
 * The new VMs that the capacity deficit alone requires: K = ceil(max(cpu deficit / vm cpu,
 * mem deficit / vm mem)), as in the original.
 */
export function minimumNewVms(problem: AllocationProblem): number {
  const demand = totalOf(Object.values(problem.plan));
  const capacity = totalOf(Object.values(problem.current));
  const cpuDeficit = Math.max(0, demand.cpu_cores - capacity.cpu_cores);
  const memDeficit = Math.max(0, demand.mem_units - capacity.mem_units);
  return Math.max(Math.ceil(cpuDeficit / problem.vmSize.cpu_cores), Math.ceil(memDeficit / problem.vmSize.mem_units));
}

/**
 * New VMs beyond which more cannot make an infeasible plan feasible. Given any feasible allocation,
 * the part of tier t placed on new VMs (C, M) in n containers can be repacked alone onto
 * ceil(max(C / vm cpu, M / vm mem)) <= n fresh VMs, each container still >= 1 core and 1 unit and the
 * tier's container count not growing; so the sum of that number over tiers, taken at their full plan,
 * bounds what is ever needed. `max_vms` caps it further.
 */
export function maximumUsefulNewVms(problem: AllocationProblem): number {
  let bound = 0;
  for (const r of Object.values(problem.plan)) {
    bound += Math.max(Math.ceil(r.cpu_cores / problem.vmSize.cpu_cores), Math.ceil(r.mem_units / problem.vmSize.mem_units));
  }
  return problem.maxVms === undefined ? bound : Math.min(bound, problem.maxVms);
}

export function buildInstance(problem: AllocationProblem, newVmCount: number): AllocationInstance {
  const tierNames = Object.keys(problem.plan).sort();
  const tierIndex = new Map(tierNames.map((name, i) => [name, i]));
  const notScalable = new Set(problem.notScalable);
  const tiers: InstanceTier[] = tierNames.map((name) => ({
    name,
    cpu: problem.plan[name].cpu_cores,
    mem: problem.plan[name].mem_units,
    maxContainers: notScalable.has(name) ? 1 : problem.maxNode[name] ?? Infinity,
    deleteWeight: notScalable.has(name) ? COST.notScalableContainerDeleted : COST.containerDeleted,
    ...(problem.placeable?.[name] ? { placeable: { vms: new Set(problem.placeable[name].vms), newVms: problem.placeable[name].newVms } } : {}),
  }));
  const vms: InstanceVm[] = Object.keys(problem.current).sort().map((name) => {
    const vm = problem.current[name];
    const prior = new Map<number, Resources>();
    for (const [tier, r] of Object.entries(vm.used ?? {})) {
      const t = tierIndex.get(tier);
      if (t !== undefined) prior.set(t, r);
    }
    const kept = (problem.keep?.[name] ?? []).filter((tier) => tierIndex.has(tier) && prior.has(tierIndex.get(tier)!));
    return { name, cpu: vm.cpu_cores, mem: vm.mem_units, isNew: false, prior, ...(kept.length > 0 ? { kept: new Set(kept) } : {}) };
  });
  const existingVmCount = vms.length;
  for (const name of newVmNames(Object.keys(problem.current), newVmCount)) {
    vms.push({ name, cpu: problem.vmSize.cpu_cores, mem: problem.vmSize.mem_units, isNew: true, prior: new Map() });
  }
  return { vms, tiers, maxVms: problem.maxVms, existingVmCount };
}

/** A VM's own term: used or not, new or existing; none when it is in use whatever happens (`alwaysUsed`). */
export function vmOwnCost(vm: InstanceVm, inUse: boolean): number {
  if (vm.alwaysUsed) return 0;
  if (vm.isNew) return inUse ? COST.newVmUsed : 0;
  return inUse ? COST.existingVmUsed : COST.existingVmEmpty;
}

/** The cost one VM contributes: its own term plus its containers' terms (kept, created, deleted). */
export function vmCost(instance: AllocationInstance, v: number, hosted: ReadonlyMap<number, Resources>): number {
  const vm = instance.vms[v];
  let cost = vmOwnCost(vm, hosted.size > 0);
  for (const t of hosted.keys()) cost += vm.prior.has(t) ? COST.containerKept : COST.containerCreated;
  for (const t of vm.prior.keys()) if (!hosted.has(t)) cost += instance.tiers[t].deleteWeight;
  return cost;
}

export function layoutCost(instance: AllocationInstance, layout: Layout): number {
  let cost = 0;
  for (let v = 0; v < instance.vms.length; v++) cost += vmCost(instance, v, layout[v]);
  return cost;
}

export function emptyLayout(instance: AllocationInstance): Layout {
  return instance.vms.map(() => new Map());
}

export function copyLayout(layout: Layout): Layout {
  return layout.map((m) => new Map(m));
}

/** Cores and units each VM has left under a layout. */
export function freeRoom(instance: AllocationInstance, layout: Layout): { cpu: number; mem: number }[] {
  return instance.vms.map((vm, v) => {
    let cpu = vm.cpu;
    let mem = vm.mem;
    for (const r of layout[v].values()) {
      cpu -= r.cpu_cores;
      mem -= r.mem_units;
    }
    return { cpu, mem };
  });
}

/** The layout of the current allocation restricted to planned tiers (the warm start). */
export function currentLayout(instance: AllocationInstance): Layout {
  return instance.vms.map((vm) => new Map(vm.prior));
}

export function layoutToPlacement(instance: AllocationInstance, layout: Layout): { placement: Placement; newVms: string[] } {
  const placement: Placement = {};
  const newVms: string[] = [];
  layout.forEach((hosted, v) => {
    if (hosted.size === 0) return;
    const vm = instance.vms[v];
    const used: TierResources = {};
    for (const t of [...hosted.keys()].sort((a, b) => a - b)) {
      const r = hosted.get(t)!;
      used[instance.tiers[t].name] = { cpu_cores: r.cpu_cores, mem_units: r.mem_units };
    }
    placement[vm.name] = used;
    if (vm.isNew) newVms.push(vm.name);
  });
  return { placement, newVms };
}

function totalOf(items: Iterable<{ cpu_cores: number; mem_units: number }>): Resources {
  let cpu = 0;
  let mem = 0;
  for (const r of items) {
    cpu += r.cpu_cores;
    mem += r.mem_units;
  }
  return { cpu_cores: cpu, mem_units: mem };
}

export function allocationTotals(current: Allocation): TierResources {
  const totals: TierResources = {};
  for (const vm of Object.values(current)) {
    for (const [tier, r] of Object.entries(vm.used ?? {})) {
      const t = totals[tier] ?? { cpu_cores: 0, mem_units: 0 };
      totals[tier] = { cpu_cores: t.cpu_cores + r.cpu_cores, mem_units: t.mem_units + r.mem_units };
    }
  }
  return totals;
}

/**
 * Every tier held exactly, every container at least 1 core and 1 unit, no VM over capacity, caps and
 * max_vms obeyed, containers only where their tier is placeable, kept containers present.
 */
export function isValidLayout(instance: AllocationInstance, layout: Layout, options: { ignoreConstraints?: boolean } = {}): boolean {
  const constrained = !options.ignoreConstraints;
  const totals = instance.tiers.map(() => ({ cpu: 0, mem: 0, n: 0 }));
  let used = 0;
  for (let v = 0; v < instance.vms.length; v++) {
    let cpu = 0;
    let mem = 0;
    const vm = instance.vms[v];
    if (constrained && vm.kept) for (const t of vm.prior.keys()) if (vm.kept.has(instance.tiers[t].name) && !layout[v].has(t)) return false;
    for (const [t, r] of layout[v]) {
      if (!Number.isInteger(r.cpu_cores) || !Number.isInteger(r.mem_units) || r.cpu_cores < 1 || r.mem_units < 1) return false;
      if (constrained && !mayHost(instance, v, t)) return false;
      cpu += r.cpu_cores;
      mem += r.mem_units;
      totals[t].cpu += r.cpu_cores;
      totals[t].mem += r.mem_units;
      totals[t].n += 1;
    }
    if (cpu > instance.vms[v].cpu || mem > instance.vms[v].mem) return false;
    if (layout[v].size > 0) used += 1;
  }
  if (instance.maxVms !== undefined && used > instance.maxVms) return false;
  return instance.tiers.every((tier, t) => totals[t].cpu === tier.cpu && totals[t].mem === tier.mem && totals[t].n <= tier.maxContainers);
}

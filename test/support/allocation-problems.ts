import { Allocation, TierResources } from '../../src/domain/allocation';
import { AllocationProblem } from '../../src/allocator/allocator';
import { seededRandom } from '../../src/allocator/search/seeded-random';

/** The numbers of one seed: an integer in [lo, hi] and a chance. */
function draws(random: () => number) {
  return { int: (lo: number, hi: number) => lo + Math.floor(random() * (hi - lo + 1)), chance: (p: number) => random() < p };
}

export interface FleetInstanceOptions {
  vms: number;
  tiers: number;
  seed: number;
  /** Planned demand as a share of the fleet's capacity. */
  load?: number;
}

/**
 * A fleet as the planner sees it: every VM of one size, about two thirds of them running some of
 * the tiers' containers, and a plan asking for about `load` (80 %) of the capacity, each tier
 * resized from what it has by up to ±50 %. A fifth of the tiers may not be spread (`max_node: 1`)
 * and another fifth are capped at 2 or 3 containers.
 */
export function generateFleetProblem(options: FleetInstanceOptions): AllocationProblem {
  const random = seededRandom(options.seed * 7919 + options.vms * 31 + options.tiers);
  const int = (lo: number, hi: number) => lo + Math.floor(random() * (hi - lo + 1));
  const vmSize = { cpu_cores: 4, mem_units: 16 };
  const load = options.load ?? 0.8;
  const tierNames = Array.from({ length: options.tiers }, (_, i) => `tier${i}`);
  const notScalable: string[] = [];
  const maxNode: Record<string, number> = {};
  tierNames.forEach((name, i) => {
    if (i % 5 === 1) notScalable.push(name);
    else if (i % 5 === 3) maxNode[name] = int(2, 3);
  });
  const isSingle = (name: string) => notScalable.includes(name);

  // Demand: shares of the fleet's capacity; a tier that may not be spread must fit one VM.
  const weights = tierNames.map(() => 0.3 + random());
  const weightSum = weights.reduce((s, w) => s + w, 0);
  const plan: TierResources = {};
  tierNames.forEach((name, i) => {
    const share = weights[i] / weightSum;
    let cpu = Math.max(1, Math.round(share * load * options.vms * vmSize.cpu_cores));
    let mem = Math.max(1, Math.round(share * load * options.vms * vmSize.mem_units * (0.6 + 0.8 * random())));
    const cap = isSingle(name) ? 1 : maxNode[name] ?? Infinity;
    cpu = Math.min(cpu, cap * vmSize.cpu_cores);
    mem = Math.min(mem, cap * vmSize.mem_units);
    plan[name] = { cpu_cores: cpu, mem_units: mem };
  });

  // Current allocation: each tier's previous size (the plan undone by ±50 %) spread first-fit over the VMs.
  const current: Allocation = {};
  const free: Array<{ cpu: number; mem: number }> = [];
  for (let v = 0; v < options.vms; v++) {
    current[`vm${v}`] = { cpu_cores: vmSize.cpu_cores, mem_units: vmSize.mem_units, used: {} };
    free.push({ cpu: vmSize.cpu_cores, mem: vmSize.mem_units });
  }
  const usable = Math.max(1, Math.round(options.vms * 0.7));
  for (const name of tierNames) {
    const factor = 0.5 + random();
    let cpu = Math.max(1, Math.round(plan[name].cpu_cores * factor));
    let mem = Math.max(1, Math.round(plan[name].mem_units * factor));
    const most = isSingle(name) ? 1 : maxNode[name] ?? Infinity;
    let containers = 0;
    for (let tries = 0; tries < options.vms * 2 && cpu > 0 && mem > 0 && containers < most; tries++) {
      const v = int(0, usable - 1);
      const used = current[`vm${v}`].used;
      if (used[name] || free[v].cpu < 1 || free[v].mem < 1) continue;
      const lastOne = containers + 1 === most;
      const c = Math.min(free[v].cpu, lastOne ? cpu : int(1, cpu));
      const m = Math.min(free[v].mem, lastOne ? mem : int(1, mem));
      used[name] = { cpu_cores: c, mem_units: m };
      free[v].cpu -= c;
      free[v].mem -= m;
      cpu -= c;
      mem -= m;
      containers += 1;
    }
  }
  return { vmSize, current, plan, notScalable, maxNode };
}

/**
 * Small, tight, varied problems for cross-checking against another solver: VMs of their own sizes,
 * plans from nearly empty to over capacity (some infeasible), `max_vms`, caps and not-scalable tiers.
 */
export function generateSmallProblem(seed: number): AllocationProblem {
  const random = seededRandom(seed * 104729 + 17);
  const int = (lo: number, hi: number) => lo + Math.floor(random() * (hi - lo + 1));
  const vmSize = { cpu_cores: int(2, 4), mem_units: int(2, 8) };
  const vmCount = int(1, 4);
  const tierCount = int(1, 4);
  const tierNames = Array.from({ length: tierCount }, (_, i) => `t${i}`);
  const current: Allocation = {};
  for (let v = 0; v < vmCount; v++) {
    const cpu = random() < 0.7 ? vmSize.cpu_cores : int(1, 4);
    const mem = random() < 0.7 ? vmSize.mem_units : int(1, 8);
    const used: TierResources = {};
    let freeCpu = cpu;
    let freeMem = mem;
    for (const name of tierNames) {
      if (random() < 0.5 || freeCpu < 1 || freeMem < 1) continue;
      const c = int(1, freeCpu);
      const m = int(1, freeMem);
      used[name] = { cpu_cores: c, mem_units: m };
      freeCpu -= c;
      freeMem -= m;
    }
    // A leftover tier of no plan, to be removed.
    if (random() < 0.15 && freeCpu >= 1 && freeMem >= 1) used.gone = { cpu_cores: 1, mem_units: 1 };
    current[`vm${v}`] = { cpu_cores: cpu, mem_units: mem, used };
  }
  const plan: TierResources = {};
  for (const name of tierNames) {
    if (random() < 0.1) continue;
    // Mostly memory in proportion to cores; now and then a lopsided or oversized tier.
    const cpu = random() < 0.2 ? int(1, 7) : int(1, 4);
    plan[name] = { cpu_cores: cpu, mem_units: random() < 0.2 ? int(1, 12) : int(cpu, 2 * cpu + 1) };
  }
  const notScalable = tierNames.filter(() => random() < 0.25);
  const maxNode: Record<string, number> = {};
  for (const name of tierNames) if (!notScalable.includes(name) && random() < 0.25) maxNode[name] = int(1, 3);
  const maxVms = random() < 0.3 ? int(2, vmCount + 3) : undefined;
  return { vmSize, maxVms, current, plan, notScalable, maxNode };
}

export interface ScaleOutOptions {
  vms: number;
  tiers: number;
  seed: number;
  /** Tiers with `max_node: 1` may run in several containers now (each extra one costs 100 to delete). */
  brokenSingles?: boolean;
}

/**
 * A fleet that must grow: VMs of 4 cores and 16 units each running 0–3 containers of random sizes,
 * and a plan asking for 0.5 to 1.1 times the fleet's capacity, cores and memory drawn apart (so
 * often above it in one of them: new VMs are needed). Each tier asks 0.3–1.7 times the mean; about
 * 15 % of the tiers may not be spread (`max_node: 1`, at most one VM's size) and about 15 % of the
 * others are capped at the fewest containers that can hold them plus 0–2.
 */
export function generateScaleOutProblem(options: ScaleOutOptions): AllocationProblem {
  const random = seededRandom(options.seed * 6007 + options.vms * 131 + options.tiers * 7 + 3);
  const { int, chance } = draws(random);
  const vmSize = { cpu_cores: 4, mem_units: 16 };
  const tierNames = Array.from({ length: options.tiers }, (_, i) => `tier${i}`);

  const single = new Set(tierNames.filter(() => chance(0.15)));
  const placedSingles = new Set<string>();
  const current: Allocation = {};
  for (let v = 0; v < options.vms; v++) {
    const used: TierResources = {};
    let cpu = vmSize.cpu_cores;
    let mem = vmSize.mem_units;
    for (let n = int(0, 3); n > 0 && cpu >= 1 && mem >= 1; n--) {
      const name = tierNames[int(0, tierNames.length - 1)];
      // What runs obeys max_node: 1 unless told otherwise (a fleet changed by hand).
      if (used[name] || (!options.brokenSingles && single.has(name) && placedSingles.has(name))) continue;
      if (single.has(name)) placedSingles.add(name);
      const c = int(1, Math.min(cpu, 2));
      const m = int(1, Math.min(mem, 8));
      used[name] = { cpu_cores: c, mem_units: m };
      cpu -= c;
      mem -= m;
    }
    current[`vm${v}`] = { ...vmSize, used };
  }

  const cpuTotal = options.vms * vmSize.cpu_cores * (0.5 + 0.6 * random());
  const memTotal = options.vms * vmSize.mem_units * (0.5 + 0.6 * random());
  const weights = tierNames.map(() => 0.3 + 1.4 * random());
  const weightSum = weights.reduce((s, w) => s + w, 0);
  const plan: TierResources = {};
  const notScalable: string[] = [];
  const maxNode: Record<string, number> = {};
  tierNames.forEach((name, i) => {
    // Memory follows cores within ±30 %, and never more units than 16 per core nor fewer than 1:
    // every container holds at least 1 of each.
    const share = weights[i] / weightSum;
    let cpu = Math.max(1, Math.round(cpuTotal * share));
    let mem = Math.max(1, Math.round(memTotal * share * (0.7 + 0.6 * random())));
    mem = Math.min(Math.max(mem, cpu), cpu * vmSize.mem_units);
    if (single.has(name)) {
      notScalable.push(name);
      cpu = Math.min(cpu, vmSize.cpu_cores);
      mem = Math.min(mem, vmSize.mem_units);
    } else if (chance(0.15)) {
      const fewest = Math.max(Math.ceil(cpu / vmSize.cpu_cores), Math.ceil(mem / vmSize.mem_units));
      maxNode[name] = Math.min(fewest + int(0, 2), cpu, mem);
    }
    plan[name] = { cpu_cores: cpu, mem_units: mem };
  });
  return { vmSize, current, plan, notScalable, maxNode };
}

/**
 * The same problem with placement constraints, as node selectors, cordons and node-local volumes
 * produce them: about a fifth of the tiers placeable only on a random half of the VMs (and on new
 * VMs or not), and about a tenth of the running containers of planned tiers kept where they are
 * (only where their tier may run, at most one per tier that may not be spread).
 */
export function withConstraints(problem: AllocationProblem, seed: number): AllocationProblem {
  const random = seededRandom(seed * 3571 + 11);
  const { chance } = draws(random);
  const vmNames = Object.keys(problem.current);
  const placeable: Record<string, { vms: string[]; newVms: boolean }> = {};
  for (const tier of Object.keys(problem.plan)) {
    if (!chance(0.2)) continue;
    placeable[tier] = { vms: vmNames.filter(() => chance(0.5)), newVms: chance(0.6) };
  }
  const keep: Record<string, string[]> = {};
  const keptOf: Record<string, number> = {};
  for (const vm of vmNames) {
    for (const tier of Object.keys(problem.current[vm].used ?? {})) {
      if (!(tier in problem.plan) || !chance(0.1)) continue;
      if (placeable[tier] && !placeable[tier].vms.includes(vm)) continue;
      const cap = problem.notScalable.includes(tier) ? 1 : problem.maxNode[tier] ?? Infinity;
      if ((keptOf[tier] ?? 0) >= Math.min(cap, problem.plan[tier].cpu_cores, problem.plan[tier].mem_units)) continue;
      keptOf[tier] = (keptOf[tier] ?? 0) + 1;
      (keep[vm] ??= []).push(tier);
    }
  }
  return { ...problem, placeable, keep };
}

export const PROPERTY_FAMILIES = ['over-capacity', 'tight-caps', 'singles', 'fragmented', 'vm-sizes', 'max-vms', 'constrained'] as const;
export type PropertyFamily = (typeof PROPERTY_FAMILIES)[number];

/**
 * Small to middling random problems (1–`maxVms` VMs, 1–`maxTiers` tiers) of one family, for the
 * property test: demand over the fleet's capacity, container caps at the fewest that can hold a
 * tier, many tiers that may not be spread, fleets fragmented into many small containers, VMs from
 * 1 × 1 to 32 × 128, `max_vms` at or near the fewest VMs the demand needs, and placement
 * constraints. Some have no solution; that is part of what is checked.
 */
export function generatePropertyProblem(family: PropertyFamily, seed: number, size: { maxVms: number; maxTiers: number } = { maxVms: 8, maxTiers: 6 }): AllocationProblem {
  const random = seededRandom(seed * 92821 + PROPERTY_FAMILIES.indexOf(family) * 1013 + 5);
  const { int, chance } = draws(random);
  const vmCount = int(1, size.maxVms);
  const tierNames = Array.from({ length: int(1, size.maxTiers) }, (_, i) => `t${i}`);
  const sizes = [[1, 1], [1, 2], [2, 4], [4, 16], [8, 32], [32, 128]];
  const vmSize = family === 'vm-sizes' ? (([c, m]) => ({ cpu_cores: c, mem_units: m }))(sizes[int(0, sizes.length - 1)]) : { cpu_cores: 4, mem_units: 16 };
  const current: Allocation = {};
  for (let v = 0; v < vmCount; v++) {
    const [cpu, mem] = family === 'vm-sizes' ? sizes[int(0, sizes.length - 1)] : [4, 16];
    const used: TierResources = {};
    let freeCpu = cpu;
    let freeMem = mem;
    const most = family === 'fragmented' ? 6 : 3;
    for (let n = int(0, most); n > 0 && freeCpu >= 1 && freeMem >= 1; n--) {
      const name = tierNames[int(0, tierNames.length - 1)];
      if (used[name]) continue;
      const c = family === 'fragmented' ? 1 : int(1, freeCpu);
      const m = family === 'fragmented' ? int(1, Math.min(2, freeMem)) : int(1, freeMem);
      used[name] = { cpu_cores: c, mem_units: m };
      freeCpu -= c;
      freeMem -= m;
    }
    // Now and then a tier the plan drops.
    if (chance(0.1) && freeCpu >= 1 && freeMem >= 1) used.gone = { cpu_cores: 1, mem_units: 1 };
    current[`vm${v}`] = { cpu_cores: cpu, mem_units: mem, used };
  }
  const capacity = Object.values(current).reduce((s, vm) => ({ cpu: s.cpu + vm.cpu_cores, mem: s.mem + vm.mem_units }), { cpu: 0, mem: 0 });
  const load = family === 'over-capacity' ? 1 + 0.6 * random() : 0.2 + 0.8 * random();
  const plan: TierResources = {};
  const notScalable: string[] = [];
  const maxNode: Record<string, number> = {};
  const largest = Object.values(current).reduce((s, vm) => ({ cpu: Math.max(s.cpu, vm.cpu_cores), mem: Math.max(s.mem, vm.mem_units) }), { cpu: vmSize.cpu_cores, mem: vmSize.mem_units });
  for (const name of tierNames) {
    const share = (0.3 + 1.4 * random()) / tierNames.length;
    const cpu = Math.max(1, Math.round(capacity.cpu * load * share));
    const mem = Math.max(cpu, Math.min(cpu * 16, Math.max(1, Math.round(capacity.mem * load * share * (0.6 + 0.8 * random())))));
    plan[name] = { cpu_cores: cpu, mem_units: mem };
    const fewest = Math.max(Math.ceil(cpu / largest.cpu), Math.ceil(mem / largest.mem));
    if (chance(family === 'singles' ? 0.5 : 0.15)) {
      notScalable.push(name);
      plan[name] = { cpu_cores: Math.min(cpu, largest.cpu), mem_units: Math.min(mem, largest.mem) };
    } else if (family === 'tight-caps' || chance(0.15)) {
      maxNode[name] = Math.max(1, fewest + int(0, family === 'tight-caps' ? 1 : 2));
    }
  }
  let problem: AllocationProblem = { vmSize, current, plan, notScalable, maxNode };
  if (family === 'max-vms') {
    const demand = Object.values(plan).reduce((s, r) => ({ cpu: s.cpu + r.cpu_cores, mem: s.mem + r.mem_units }), { cpu: 0, mem: 0 });
    const fewest = Math.max(Math.ceil(demand.cpu / vmSize.cpu_cores), Math.ceil(demand.mem / vmSize.mem_units));
    problem = { ...problem, maxVms: Math.max(1, fewest + int(-1, 1)) };
  }
  if (family === 'constrained') problem = withConstraints(problem, seed);
  return problem;
}

import { AllocationInstance, Layout, mayHost, mustKeep } from '../model/allocation-instance';
import { COST } from '../model/cost-weights';
import { minimumContainers, minimumVmsInUse } from '../model/lower-bound';
import { MipModel, MipModelBuilder } from './mip-model';

/** Column indices of one (VM, tier) pair: container exists, its cores, its units. */
interface PairColumns {
  v: number;
  t: number;
  exists: number;
  cpu: number;
  mem: number;
}

export interface AllocationMip {
  model: MipModel;
  /** The layout a solution vector describes; values are rounded (solvers return 0.9999999 for 1). */
  decode(values: ArrayLike<number>): Layout;
  /** The solution vector of a layout, to hand a known allocation to the solver as its first incumbent. */
  encode(layout: Layout): Float64Array;
  /** The pairs, as v·T + t, whose container variable is above zero: the support of a (relaxed) solution. */
  support(values: ArrayLike<number>): Set<number>;
}

/**
 * The SPEC §3 model in its tight form. Per VM v and tier t: binary x (a container exists), integers
 * c and m (its cores and units) with x <= c <= min(cap, demand)·x, likewise m; per VM a binary u
 * (the VM hosts something). The original's "idle" variables are substituted away (idle = 1 - u,
 * deleted = 1 - x, the constants go to the offset), and every big-M is the smallest valid one,
 * min(VM capacity, tier demand), which is what makes branch and bound fast. Pairs that cannot host
 * a container at all (capacity below 1 core or 1 unit, or the tier not placeable there) get no
 * columns; a container to keep has x fixed to 1.
 *
 * Cores and units need not be declared integer: once the binaries are fixed, each resource on its
 * own is a transportation problem (tiers supply their demand to the VMs they run on, arcs bounded by
 * 1 and the big-M, VMs capped by their capacity), whose matrix is totally unimodular, so whenever
 * fractional sizes exist integral ones do too. Branching then happens on the binaries alone.
 * `integerSizes` (with `fixedLayout` fixing the binaries) recovers integral sizes when rounding
 * a fractional answer does not add up. The whole model also counts the VMs in use from below
 * (`minimumVmsInUse`): a valid row the relaxation only knows a fraction of.
 */
export interface AllocationMipOptions {
  integerSizes?: boolean;
  fixedLayout?: Layout;
  /**
   * Only these (VM, tier) pairs get columns: a restricted model, whose optimum is an upper bound of
   * the whole one (every layout it allows is valid) and whose dual bound proves nothing about it.
   */
  candidate?: (v: number, t: number) => boolean;
  /** Every column continuous: the LP relaxation, whose optimum is a lower bound of the model's. */
  relaxed?: boolean;
  /**
   * The row "at least as many VMs in use as the demand and the widest tier need" (see below). By
   * default only in the whole, integral model.
   */
  vmCountRow?: boolean;
}

export function buildAllocationMip(instance: AllocationInstance, options: AllocationMipOptions = {}): AllocationMip {
  const integerSizes = options.integerSizes ?? false;
  const b = new MipModelBuilder();
  const pairs: PairColumns[] = [];
  const vmUsed: number[] = [];
  const pairsOfTier: PairColumns[][] = instance.tiers.map(() => []);

  instance.vms.forEach((vm, v) => {
    const usedCost = vm.alwaysUsed ? 0 : vm.isNew ? COST.newVmUsed : COST.existingVmUsed - COST.existingVmEmpty;
    const used = b.addColumn(`u${v}`, 0, 1, usedCost);
    if (!vm.isNew && !vm.alwaysUsed) b.addOffset(COST.existingVmEmpty);
    vmUsed.push(used);
    const cpuTerms: Array<[number, number]> = [];
    const memTerms: Array<[number, number]> = [];
    instance.tiers.forEach((tier, t) => {
      const cpuMax = Math.min(vm.cpu, tier.cpu);
      const memMax = Math.min(vm.mem, tier.mem);
      const hadContainer = vm.prior.has(t);
      if (hadContainer) b.addOffset(tier.deleteWeight);
      // No column where the tier may not run (placeable): its container there, if any, is deleted.
      if (cpuMax < 1 || memMax < 1 || !mayHost(instance, v, t)) return;
      if (options.candidate && !options.candidate(v, t) && !mustKeep(instance, v, t)) return;
      const existsCost = hadContainer ? COST.containerKept - tier.deleteWeight : COST.containerCreated;
      const exists = b.addColumn(`x${v}_${t}`, 0, 1, existsCost);
      const cpu = b.addColumn(`c${v}_${t}`, 0, cpuMax, 0, integerSizes);
      const mem = b.addColumn(`m${v}_${t}`, 0, memMax, 0, integerSizes);
      b.addRow(`cmin${v}_${t}`, [[cpu, 1], [exists, -1]], 0, Infinity);
      b.addRow(`cmax${v}_${t}`, [[cpu, 1], [exists, -cpuMax]], -Infinity, 0);
      b.addRow(`mmin${v}_${t}`, [[mem, 1], [exists, -1]], 0, Infinity);
      b.addRow(`mmax${v}_${t}`, [[mem, 1], [exists, -memMax]], -Infinity, 0);
      b.addRow(`host${v}_${t}`, [[exists, 1], [used, -1]], -Infinity, 0);
      cpuTerms.push([cpu, 1]);
      memTerms.push([mem, 1]);
      // A container to keep exists (its size is free).
      if (mustKeep(instance, v, t)) b.model.columns[exists].lower = 1;
      if (options.fixedLayout) {
        const on = options.fixedLayout[v].has(t) ? 1 : 0;
        b.model.columns[exists].lower = on;
        b.model.columns[exists].upper = on;
      }
      const pair = { v, t, exists, cpu, mem };
      pairs.push(pair);
      pairsOfTier[t].push(pair);
    });
    if (cpuTerms.length > 0) {
      b.addRow(`vcpu${v}`, [...cpuTerms, [used, -vm.cpu]], -Infinity, 0);
      b.addRow(`vmem${v}`, [...memTerms, [used, -vm.mem]], -Infinity, 0);
    } else {
      // A VM that can host nothing is never used.
      b.model.columns[used].upper = 0;
    }
  });

  instance.tiers.forEach((tier, t) => {
    const ps = pairsOfTier[t];
    b.addRow(`tcpu${t}`, ps.map((p) => [p.cpu, 1] as [number, number]), tier.cpu, tier.cpu);
    b.addRow(`tmem${t}`, ps.map((p) => [p.mem, 1] as [number, number]), tier.mem, tier.mem);
    // Valid but not implied by the relaxation, where one fractional container could hold a whole tier.
    const fewest = minimumContainers(instance, t);
    if (fewest > 1 && Number.isFinite(fewest)) {
      b.addRow(`tfew${t}`, ps.map((p) => [p.exists, 1] as [number, number]), fewest, Infinity);
    }
    if (tier.maxContainers < ps.length) {
      b.addRow(`tcount${t}`, ps.map((p) => [p.exists, 1] as [number, number]), -Infinity, tier.maxContainers);
    }
  });

  // Identical interchangeable VMs (new placeholders, or existing VMs of equal size that hosted
  // nothing of the plan) are used in order: the solver need not explore their permutations.
  const groups = new Map<string, number[]>();
  instance.vms.forEach((vm, v) => {
    if (vm.prior.size > 0) return;
    // VMs are interchangeable only where the same tiers may run (placeable).
    const placeable = instance.tiers.map((_, t) => (mayHost(instance, v, t) && (options.candidate?.(v, t) ?? true) ? 1 : 0)).join('');
    const key = `${vm.isNew}:${vm.alwaysUsed ?? false}:${vm.cpu}:${vm.mem}:${placeable}`;
    groups.set(key, [...(groups.get(key) ?? []), v]);
  });
  for (const members of groups.values()) {
    for (let i = 0; i + 1 < members.length; i++) {
      b.addRow(`sym${members[i]}`, [[vmUsed[members[i]], 1], [vmUsed[members[i + 1]], -1]], 0, Infinity);
    }
  }

  // Valid for every allocation, and what the relaxation misses most: it knows only a fraction of a
  // VM (the demand over the capacity). In the whole model it lifts HiGHS' dual bound to the optimum
  // on many fleets the polish could not prove before (scale-out 30 × 15 seed 2: 455 -> 464). Not in
  // the relaxation whose support widens the restricted model, nor in the restricted model: measured
  // on ten seeds each of scale-out 20 × 10 / 20 × 20 / 30 × 15, both found dearer layouts with it.
  if (options.vmCountRow ?? (!options.relaxed && !options.candidate && !options.fixedLayout)) {
    const fewestVms = minimumVmsInUse(instance);
    if (fewestVms > 1) b.addRow('vmsused', vmUsed.map((u) => [u, 1] as [number, number]), fewestVms, Infinity);
  }
  if (instance.maxVms !== undefined && instance.maxVms < instance.vms.length) {
    b.addRow('maxvms', vmUsed.map((u) => [u, 1] as [number, number]), -Infinity, instance.maxVms);
  }

  const model = b.model;
  if (options.relaxed) for (const column of model.columns) column.integer = false;
  const T = instance.tiers.length;
  return {
    model,
    decode(values) {
      const layout: Layout = instance.vms.map(() => new Map());
      for (const p of pairs) {
        if (Math.round(values[p.exists]) !== 1) continue;
        layout[p.v].set(p.t, { cpu_cores: Math.round(values[p.cpu]), mem_units: Math.round(values[p.mem]) });
      }
      return layout;
    },
    encode(unordered) {
      const layout = orderInterchangeableVms(unordered, [...groups.values()]);
      const values = new Float64Array(model.columns.length);
      for (const p of pairs) {
        const r = layout[p.v].get(p.t);
        if (!r) continue;
        values[p.exists] = 1;
        values[p.cpu] = r.cpu_cores;
        values[p.mem] = r.mem_units;
      }
      layout.forEach((hosted, v) => {
        if (hosted.size > 0) values[vmUsed[v]] = 1;
      });
      return values;
    },
    support(values) {
      return new Set(pairs.filter((p) => values[p.exists] > 1e-6).map((p) => p.v * T + p.t));
    },
  };
}

/** The same layout with the used VMs of each interchangeable group moved to the front, as the symmetry rows demand. */
function orderInterchangeableVms(layout: Layout, groups: number[][]): Layout {
  const ordered = layout.slice();
  for (const members of groups) {
    const hosted = members.map((v) => layout[v]);
    const sorted = [...hosted.filter((h) => h.size > 0), ...hosted.filter((h) => h.size === 0)];
    members.forEach((v, i) => (ordered[v] = sorted[i]));
  }
  return ordered;
}

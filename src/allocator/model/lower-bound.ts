import { AllocationInstance, mayHost, mustKeep } from './allocation-instance';
import { COST } from './cost-weights';

/**
 * The fewest containers tier t can run in: the largest VMs where it is placeable taken first, per
 * resource. Infinity when even all of them cannot hold it.
 */
export function minimumContainers(instance: AllocationInstance, t: number): number {
  const tier = instance.tiers[t];
  const fewest = (demand: number, capacities: number[]) => {
    const sorted = capacities.map((c) => Math.min(c, demand)).sort((a, b) => b - a);
    let sum = 0;
    for (let i = 0; i < sorted.length; i++) {
      sum += sorted[i];
      if (sum >= demand) return i + 1;
    }
    return Infinity;
  };
  return Math.max(
    1,
    fewest(tier.cpu, instance.vms.flatMap((vm, v) => (mayHost(instance, v, t) ? [vm.cpu] : []))),
    fewest(tier.mem, instance.vms.flatMap((vm, v) => (mayHost(instance, v, t) ? [vm.mem] : []))),
  );
}

/**
 * A container to keep where its tier may not run, more kept containers than the tier may have, or
 * kept containers that cannot all have 1 core and 1 unit on their VM: no allocation exists.
 */
export function findConstraintConflict(instance: AllocationInstance): string | undefined {
  const keptOf = instance.tiers.map(() => 0);
  for (let v = 0; v < instance.vms.length; v++) {
    const vm = instance.vms[v];
    let kept = 0;
    for (let t = 0; t < instance.tiers.length; t++) {
      if (!mustKeep(instance, v, t)) continue;
      if (!mayHost(instance, v, t)) return `'${instance.tiers[t].name}' must be kept on '${vm.name}', where it is not placeable`;
      keptOf[t] += 1;
      kept += 1;
    }
    if (kept > vm.cpu || kept > vm.mem) return `'${vm.name}' cannot hold the ${kept} containers it must keep`;
  }
  for (let t = 0; t < instance.tiers.length; t++) {
    const tier = instance.tiers[t];
    if (keptOf[t] > Math.min(tier.maxContainers, tier.cpu, tier.mem)) {
      return `tier '${tier.name}' must keep ${keptOf[t]} containers but may have at most ${Math.min(tier.maxContainers, tier.cpu, tier.mem)}`;
    }
  }
  return undefined;
}

/** A tier that cannot be split finely enough or spread widely enough can never be placed. */
export function findUnplaceableTier(instance: AllocationInstance): string | undefined {
  for (let t = 0; t < instance.tiers.length; t++) {
    const tier = instance.tiers[t];
    const most = Math.min(tier.maxContainers, tier.cpu, tier.mem);
    const fewest = minimumContainers(instance, t);
    if (fewest > most) {
      return `tier '${tier.name}' needs at least ${fewest === Infinity ? 'more' : fewest} containers to hold ` +
        `${tier.cpu} cores and ${tier.mem} units but may have at most ${most}`;
    }
  }
  return undefined;
}

/**
 * The fewest VMs any allocation uses: as many as the largest capacities take to hold the demand,
 * per resource, and as many as the widest tier needs containers (one per VM). The LP relaxation
 * only knows a fraction of that (the demand over the capacity).
 */
export function minimumVmsInUse(instance: AllocationInstance): number {
  const fewest = (demand: number, capacities: number[]) => {
    const sorted = capacities.slice().sort((a, b) => b - a);
    let sum = 0;
    for (let i = 0; i < sorted.length; i++) {
      if (sum >= demand) return i;
      sum += sorted[i];
    }
    return sorted.length;
  };
  const demandCpu = instance.tiers.reduce((s, t) => s + t.cpu, 0);
  const demandMem = instance.tiers.reduce((s, t) => s + t.mem, 0);
  const widestTier = instance.tiers.map((_, t) => minimumContainers(instance, t)).filter(Number.isFinite);
  return Math.max(fewest(demandCpu, instance.vms.map((vm) => vm.cpu)), fewest(demandMem, instance.vms.map((vm) => vm.mem)), ...widestTier);
}

/** The fewest new VMs any allocation uses: what the existing VMs cannot hold, per resource. */
function minimumNewVmsInUse(instance: AllocationInstance): number {
  const fewest = (demand: number, existing: number, newCapacities: number[]) => {
    let left = demand - existing;
    const sorted = newCapacities.slice().sort((a, b) => b - a);
    let count = 0;
    while (left > 0 && count < sorted.length) left -= sorted[count++];
    return count;
  };
  const existing = instance.vms.filter((vm) => !vm.isNew);
  const added = instance.vms.filter((vm) => vm.isNew);
  const sum = (xs: number[]) => xs.reduce((s, x) => s + x, 0);
  return Math.max(
    fewest(sum(instance.tiers.map((t) => t.cpu)), sum(existing.map((vm) => vm.cpu)), added.map((vm) => vm.cpu)),
    fewest(sum(instance.tiers.map((t) => t.mem)), sum(existing.map((vm) => vm.mem)), added.map((vm) => vm.mem)),
  );
}

/**
 * A cheap valid lower bound on the cost, for answers the exact solver could not prove. The objective
 * is a sum of VM terms and container terms, bounded apart: the VMs in use must hold the total demand
 * (a fractional cover per resource, cheapest capacity first), and each tier needs at least
 * `minimumContainers`, each kept one costing 2 more than deleting it and each created one 4.
 */
export function lowerBound(instance: AllocationInstance): number {
  let bound = instance.existingVmCount * COST.existingVmEmpty;
  const extra = (isNew: boolean) => (isNew ? COST.newVmUsed : COST.existingVmUsed - COST.existingVmEmpty);
  const demandCpu = instance.tiers.reduce((s, t) => s + t.cpu, 0);
  const demandMem = instance.tiers.reduce((s, t) => s + t.mem, 0);
  const cover = (demand: number, capacityOf: (v: number) => number) => {
    const vs = instance.vms.map((_, v) => v).filter((v) => capacityOf(v) > 0)
      .sort((a, b) => extra(instance.vms[a].isNew) / capacityOf(a) - extra(instance.vms[b].isNew) / capacityOf(b));
    let left = demand;
    let cost = 0;
    for (const v of vs) {
      if (left <= 0) break;
      const take = Math.min(1, left / capacityOf(v));
      cost += take * extra(instance.vms[v].isNew);
      left -= take * capacityOf(v);
    }
    return cost;
  };
  let containerBound = 0;
  let widest = 0;
  let created = 0;
  // The least a container more than those counted costs when it is created: added (4), or instead of one kept (4 - keepExtra).
  let extraCreated: number = COST.containerCreated;
  instance.tiers.forEach((tier, t) => {
    const existing = instance.vms.filter((vm) => vm.prior.has(t)).length;
    // Containers where the tier is no longer placeable go whatever happens; kept ones stay.
    const keepable = instance.vms.filter((vm, v) => vm.prior.has(t) && mayHost(instance, v, t)).length;
    const pinned = instance.vms.filter((_, v) => mustKeep(instance, v, t)).length;
    const needed = Math.max(pinned, Math.min(minimumContainers(instance, t), instance.vms.length));
    widest = Math.max(widest, needed);
    const keepExtra = COST.containerKept - tier.deleteWeight;
    const kept = keepExtra < COST.containerCreated ? Math.min(needed, keepable) : pinned;
    containerBound += existing * tier.deleteWeight + kept * keepExtra + (needed - kept) * COST.containerCreated;
    created += needed - kept;
    if (kept > pinned) extraCreated = Math.min(extraCreated, COST.containerCreated - keepExtra);
  });
  // Tiers that may not be spread and ran only on one VM are counted as kept there; when their new
  // sizes cannot all fit that VM, one of them at least is deleted and created elsewhere instead.
  instance.vms.forEach((vm) => {
    let cpu = 0;
    let mem = 0;
    let penalty = Infinity;
    for (const t of vm.prior.keys()) {
      const tier = instance.tiers[t];
      if (tier.maxContainers !== 1 || instance.vms.filter((other) => other.prior.has(t)).length !== 1) continue;
      cpu += tier.cpu;
      mem += tier.mem;
      penalty = Math.min(penalty, tier.deleteWeight + COST.containerCreated - COST.containerKept);
    }
    if ((cpu > vm.cpu || mem > vm.mem) && Number.isFinite(penalty)) containerBound += penalty;
  });
  const vmsNeeded = Math.max(widest, minimumVmsInUse(instance));
  // Every VM in use hosts a container, and only VMs where a tier ran before can host a kept one: the
  // others (new VMs among them) host created containers only. When the VMs in use must outnumber
  // the VMs that can keep something, or the demand needs new VMs, more containers are created than
  // the tiers' own counts above say, each at least `extraCreated` more.
  const keeping = instance.vms.filter((vm, v) => [...vm.prior.keys()].some((t) => mayHost(instance, v, t))).length;
  const mustCreate = Math.max(vmsNeeded - keeping, minimumNewVmsInUse(instance));
  containerBound += Math.max(0, mustCreate - created) * extraCreated;
  const cheapestVms = instance.vms.map((vm) => extra(vm.isNew)).sort((a, b) => a - b).slice(0, vmsNeeded).reduce((s, c) => s + c, 0);
  bound += Math.max(cover(demandCpu, (v) => instance.vms[v].cpu), cover(demandMem, (v) => instance.vms[v].mem), cheapestVms);
  return Math.ceil(bound + containerBound - 1e-9);
}

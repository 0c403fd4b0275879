import { Resources } from '../../domain/resources';
import { AllocationInstance, InstanceTier, InstanceVm, Layout, layoutCost } from '../model/allocation-instance';
import { solveInstanceExactly } from '../exact/exact-solve';
import { seededRandom } from './seeded-random';

export interface NeighbourhoodSearchOptions {
  /** Absolute time (Date.now()) at which the search stops. */
  deadlineMs: number;
  /** VMs re-solved together in one step. */
  neighbourhoodSize: number;
  /** Stop after this many steps in a row without improvement. */
  maxStallSteps: number;
  /** Tiers freed together in a tier step. */
  tiersPerStep: number;
  /** Budget of one exact sub-solve. */
  stepTimeLimitMs: number;
  seed: number;
}

/**
 * Large-neighbourhood search: pick a few VMs, free everything placed on them, and re-solve that
 * small problem exactly (the rest of the fleet fixed). The objective is a sum of per-VM terms, so
 * the sub-problem's optimum improves the whole exactly by what it improves the few. Neighbourhoods
 * start from a lightly loaded VM (emptying a VM saves 9 or 20) and add the VMs sharing its tiers
 * (merging containers of a tier saves their create/keep costs), then the VMs with most room.
 */
export async function improveByNeighbourhoods(
  instance: AllocationInstance,
  start: Layout,
  options: NeighbourhoodSearchOptions,
): Promise<Layout> {
  const layout = start.map((m) => new Map(m));
  const random = seededRandom(options.seed);
  let stall = 0;
  const tried = new Set<string>();
  let step = 0;
  while (Date.now() < options.deadlineMs && stall < options.maxStallSteps) {
    step += 1;
    // Every other step frees a few tiers everywhere instead of a few VMs entirely: tiers then
    // consolidate across the whole fleet, which no handful of VMs can show.
    const byTiers = step % 2 === 0 && instance.maxVms === undefined && instance.tiers.length > 1;
    const picked = byTiers
      ? pickTiers(instance, layout, options.tiersPerStep, random)
      : pickNeighbourhood(instance, layout, options.neighbourhoodSize, random);
    const key = `${byTiers ? 't' : 'v'}:${picked.slice().sort((a, b) => a - b).join(',')}`;
    if ((!byTiers && picked.length < 2) || tried.has(key)) {
      stall += 1;
      continue;
    }
    tried.add(key);
    const limitMs = Math.min(options.stepTimeLimitMs, options.deadlineMs - Date.now());
    const improved = byTiers ? await resolveTiers(instance, layout, picked, limitMs) : await resolveSubset(instance, layout, picked, limitMs);
    if (improved) {
      tried.clear();
      stall = 0;
    } else stall += 1;
  }
  return layout;
}

function pickNeighbourhood(instance: AllocationInstance, layout: Layout, size: number, random: () => number): number[] {
  const used = layout.flatMap((h, v) => (h.size > 0 ? [v] : []));
  if (used.length === 0) return [];
  const load = (v: number) => {
    let cpu = 0;
    let mem = 0;
    for (const r of layout[v].values()) {
      cpu += r.cpu_cores;
      mem += r.mem_units;
    }
    return Math.max(cpu / instance.vms[v].cpu, mem / instance.vms[v].mem);
  };
  // Lightly loaded VMs are the ones worth emptying: pick the seed among the lighter half, at random.
  const byLoad = used.slice().sort((a, b) => load(a) - load(b));
  const seed = random() < 0.7 ? byLoad[Math.floor(random() * Math.ceil(byLoad.length / 2))] : used[Math.floor(random() * used.length)];
  const chosen = new Set([seed]);
  const sharing = used.filter((v) => v !== seed && [...layout[seed].keys()].some((t) => layout[v].has(t)));
  shuffle(sharing, random);
  for (const v of sharing) {
    if (chosen.size >= Math.ceil(size / 2)) break;
    chosen.add(v);
  }
  // The VMs where the seed's tiers ran before: a container moved away may be cheaper back home.
  const homes = instance.vms.flatMap((vm, v) => (!chosen.has(v) && [...layout[seed].keys()].some((t) => vm.prior.has(t) && !layout[v].has(t)) ? [v] : []));
  shuffle(homes, random);
  for (const v of homes) {
    if (chosen.size >= Math.ceil((size * 2) / 3)) break;
    chosen.add(v);
  }
  const roomy = used.filter((v) => !chosen.has(v)).sort((a, b) => load(a) - load(b) + (random() - 0.5) * 0.3);
  for (const v of roomy) {
    if (chosen.size >= size) break;
    chosen.add(v);
  }
  // Now and then an idle VM too, for a tier that must move whole.
  if (random() < 0.2) {
    const idle = layout.flatMap((h, v) => (h.size === 0 && !instance.vms[v].isNew ? [v] : []));
    if (idle.length > 0) chosen.add(idle[Math.floor(random() * idle.length)]);
  }
  return [...chosen];
}

/** Re-solves the placement on `subset` exactly; changes `layout` and returns true when it found a cheaper one. */
async function resolveSubset(instance: AllocationInstance, layout: Layout, subset: number[], timeLimitMs: number): Promise<boolean> {
  if (timeLimitMs <= 0) return false;
  const inSubset = new Set(subset);
  const tierIds = [...new Set(subset.flatMap((v) => [...layout[v].keys()]))];
  const subTierIndex = new Map(tierIds.map((t, i) => [t, i]));
  const tiers: InstanceTier[] = tierIds.map((t) => {
    let cpu = 0;
    let mem = 0;
    let outside = 0;
    layout.forEach((hosted, v) => {
      const r = hosted.get(t);
      if (!r) return;
      if (inSubset.has(v)) {
        cpu += r.cpu_cores;
        mem += r.mem_units;
      } else outside += 1;
    });
    const tier = instance.tiers[t];
    return { ...tier, cpu, mem, maxContainers: tier.maxContainers - outside };
  });
  const vms: InstanceVm[] = subset.map((v) => {
    const vm = instance.vms[v];
    const prior = new Map<number, Resources>();
    for (const [t, r] of vm.prior) {
      const i = subTierIndex.get(t);
      if (i !== undefined) prior.set(i, r);
    }
    return { ...vm, prior };
  });
  const usedOutside = layout.filter((h, v) => h.size > 0 && !inSubset.has(v)).length;
  const sub: AllocationInstance = {
    vms,
    tiers,
    existingVmCount: vms.filter((vm) => !vm.isNew).length,
    maxVms: instance.maxVms === undefined ? undefined : instance.maxVms - usedOutside,
  };
  const subLayout: Layout = subset.map((v) => {
    const hosted = new Map<number, Resources>();
    for (const [t, r] of layout[v]) hosted.set(subTierIndex.get(t)!, r);
    return hosted;
  });
  const before = layoutCost(sub, subLayout);
  const outcome = await solveInstanceExactly(sub, { timeLimitMs, start: subLayout });
  const candidate = outcome.layout;
  if (!candidate || layoutCost(sub, candidate) >= before) return false;
  subset.forEach((v, i) => {
    const hosted = new Map<number, Resources>();
    for (const [st, r] of candidate[i]) hosted.set(tierIds[st], r);
    layout[v] = hosted;
  });
  return true;
}

/** Tiers with many containers first: they have the most to gain from consolidating. */
function pickTiers(instance: AllocationInstance, layout: Layout, count: number, random: () => number): number[] {
  const containers = instance.tiers.map(() => 0);
  for (const hosted of layout) for (const t of hosted.keys()) containers[t] += 1;
  const weights = containers.map((n) => n + 0.5);
  const chosen = new Set<number>();
  while (chosen.size < Math.min(count, instance.tiers.length)) {
    let x = random() * weights.reduce((s, w, t) => s + (chosen.has(t) ? 0 : w), 0);
    for (let t = 0; t < weights.length; t++) {
      if (chosen.has(t)) continue;
      x -= weights[t];
      if (x <= 0) {
        chosen.add(t);
        break;
      }
    }
    if (x > 0) break;
  }
  return [...chosen];
}

/**
 * Re-solves where the given tiers run, everywhere, the other tiers fixed: VMs keep the room the
 * others leave them, and a VM the others use is in use whatever happens (its own cost is fixed).
 */
async function resolveTiers(instance: AllocationInstance, layout: Layout, tierIds: number[], timeLimitMs: number): Promise<boolean> {
  if (timeLimitMs <= 0) return false;
  const freed = new Set(tierIds);
  const subTierIndex = new Map(tierIds.map((t, i) => [t, i]));
  const included: number[] = [];
  const vms: InstanceVm[] = [];
  let idleAdded = 0;
  instance.vms.forEach((vm, v) => {
    let cpu = vm.cpu;
    let mem = vm.mem;
    let fixed = 0;
    let hostsFreed = false;
    for (const [t, r] of layout[v]) {
      if (freed.has(t)) {
        hostsFreed = true;
        continue;
      }
      cpu -= r.cpu_cores;
      mem -= r.mem_units;
      fixed += 1;
    }
    const roomy = cpu >= 1 && mem >= 1;
    // Idle VMs are all alike to the freed tiers: two are enough to offer.
    const idle = fixed === 0 && !hostsFreed && roomy && idleAdded < 2;
    if (!hostsFreed && !(fixed > 0 && roomy) && !idle) return;
    if (idle) idleAdded += 1;
    const prior = new Map<number, Resources>();
    for (const [t, r] of vm.prior) {
      const i = subTierIndex.get(t);
      if (i !== undefined) prior.set(i, r);
    }
    included.push(v);
    vms.push({ ...vm, cpu, mem, prior, alwaysUsed: fixed > 0 });
  });
  const tiers: InstanceTier[] = tierIds.map((t) => instance.tiers[t]);
  const sub: AllocationInstance = { vms, tiers, existingVmCount: vms.filter((vm) => !vm.isNew).length };
  const subLayout: Layout = included.map((v) => {
    const hosted = new Map<number, Resources>();
    for (const [t, r] of layout[v]) {
      const i = subTierIndex.get(t);
      if (i !== undefined) hosted.set(i, r);
    }
    return hosted;
  });
  const before = layoutCost(sub, subLayout);
  const outcome = await solveInstanceExactly(sub, { timeLimitMs, start: subLayout });
  const candidate = outcome.layout;
  if (!candidate || layoutCost(sub, candidate) >= before) return false;
  included.forEach((v, i) => {
    const hosted = new Map([...layout[v]].filter(([t]) => !freed.has(t)));
    for (const [st, r] of candidate[i]) hosted.set(tierIds[st], r);
    layout[v] = hosted;
  });
  return true;
}

function shuffle<T>(items: T[], random: () => number): void {
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [items[i], items[j]] = [items[j], items[i]];
  }
}

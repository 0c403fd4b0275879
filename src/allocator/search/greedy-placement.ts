import { Resources } from '../../domain/resources';
import { AllocationInstance, copyLayout, Layout, freeRoom, mayHost, mustKeep } from '../model/allocation-instance';

/**
 * A quick feasible layout, built by repairing a starting layout (normally the current allocation,
 * so that most containers stay where they are: most plans change little).
 *
 * 1. Every tier sheds containers over its cap and shrinks to its new size (smallest containers go
 *    first: fewer containers cost less), which frees room before anything grows.
 * 2. Tiers with a container cap grow first, hardest first (a tier that may not be spread needs one
 *    VM with room for all of it). When no VM has room for its share, containers of uncapped tiers
 *    are evicted from the best VM (its own previous VM first); they are placed again in step 3.
 * 3. Uncapped tiers grow in place, then create containers: whole on one VM where one has room,
 *    otherwise on the roomiest VMs — VMs in use first, then idle existing VMs, then new VMs.
 *
 * Containers where their tier is not placeable go first; containers to keep are never removed (from
 * an empty start they are put back with 1 core and 1 unit, then grow like the others).
 *
 * Returns undefined when it gets stuck; that proves nothing (the exact solver decides). Finite: the
 * queue takes a bounded number of steps, and each step offers a VM to a tier at most twice (once
 * skipped, or once given a container), so it ends in milliseconds on any fleet.
 */
export function greedyLayout(instance: AllocationInstance, start: Layout): Layout | undefined {
  const layout = copyLayout(start);
  instance.vms.forEach((vm, v) => {
    for (const t of [...layout[v].keys()]) if (!mayHost(instance, v, t)) layout[v].delete(t);
    for (const t of vm.prior.keys()) if (mustKeep(instance, v, t) && !layout[v].has(t)) layout[v].set(t, { cpu_cores: 1, mem_units: 1 });
  });
  const free = freeRoom(instance, layout);
  const put = (v: number, t: number, r: Resources | undefined) => {
    const old = layout[v].get(t);
    if (old) {
      free[v].cpu += old.cpu_cores;
      free[v].mem += old.mem_units;
    }
    if (r) {
      layout[v].set(t, r);
      free[v].cpu -= r.cpu_cores;
      free[v].mem -= r.mem_units;
    } else layout[v].delete(t);
  };
  const containersOf = (t: number) => layout.flatMap((hosted, v) => (hosted.has(t) ? [v] : []));
  const isCapped = (t: number) => Number.isFinite(instance.tiers[t].maxContainers);

  const maxCpu = Math.max(...instance.vms.map((vm) => vm.cpu), 1);
  const maxMem = Math.max(...instance.vms.map((vm) => vm.mem), 1);
  instance.tiers.forEach((_, t) => shedAndShrink(t));

  const bySize = (a: number, b: number) => {
    const ta = instance.tiers[a];
    const tb = instance.tiers[b];
    const size = (x: typeof ta) => x.cpu / maxCpu + x.mem / maxMem;
    return size(tb) - size(ta);
  };
  const capped = instance.tiers.map((_, t) => t).filter(isCapped)
    .sort((a, b) => instance.tiers[a].maxContainers - instance.tiers[b].maxContainers || bySize(a, b));
  const uncapped = instance.tiers.map((_, t) => t).filter((t) => !isCapped(t)).sort(bySize);
  const queue = [...capped, ...uncapped];
  const queued = new Set(queue);
  // Evicted tiers go back into the queue; the bound keeps evictions from chasing each other forever.
  for (let step = 0; queue.length > 0; step++) {
    if (step > 4 * instance.tiers.length + 10) return undefined;
    const t = queue.shift()!;
    queued.delete(t);
    if (grow(t)) continue;
    // Stuck with the containers it kept (their VMs are full): place the whole tier afresh, but for
    // the containers that must stay.
    for (const v of containersOf(t)) if (!mustKeep(instance, v, t)) put(v, t, undefined);
    if (!grow(t)) return undefined;
  }
  return layout;

  /** Cheap neighbours make way: uncapped tiers, or any scalable tier for one that may not be spread; never a container to keep. */
  function isEvictable(v: number, other: number, forTier: number): boolean {
    if (other === forTier || mustKeep(instance, v, other)) return false;
    return !isCapped(other) || instance.tiers[other].deleteWeight < instance.tiers[forTier].deleteWeight;
  }

  function evict(v: number, other: number) {
    put(v, other, undefined);
    if (!queued.has(other)) {
      queued.add(other);
      queue.push(other);
    }
  }

  function shedAndShrink(t: number) {
    const tier = instance.tiers[t];
    const size = (v: number) => layout[v].get(t)!.cpu_cores / maxCpu + layout[v].get(t)!.mem_units / maxMem;
    // Containers to keep first, then the largest: the smallest are the ones dropped.
    const keep = (v: number) => (mustKeep(instance, v, t) ? 1 : 0);
    const vs = containersOf(t).sort((a, b) => keep(b) - keep(a) || size(b) - size(a));
    const cap = Math.min(tier.maxContainers, tier.cpu, tier.mem);
    while (vs.length > cap && !keep(vs[vs.length - 1])) put(vs.pop()!, t, undefined);
    // Deleting costs 1 and keeping 3: drop the smallest containers while the rest still hold the plan.
    while (vs.length > 1 && !keep(vs[vs.length - 1])) {
      const sum = totalOf(vs, t);
      const last = layout[vs[vs.length - 1]].get(t)!;
      if (sum.cpu_cores - last.cpu_cores < tier.cpu || sum.mem_units - last.mem_units < tier.mem) break;
      put(vs.pop()!, t, undefined);
    }
    shrinkTo(vs, t, 'cpu_cores', tier.cpu);
    shrinkTo(vs, t, 'mem_units', tier.mem);
  }

  function shrinkTo(vs: number[], t: number, key: keyof Resources, target: number) {
    let excess = vs.reduce((s, v) => s + layout[v].get(t)![key], 0) - target;
    for (const v of vs) {
      if (excess <= 0) break;
      const r = layout[v].get(t)!;
      const cut = Math.min(excess, r[key] - 1);
      if (cut > 0) {
        put(v, t, { ...r, [key]: r[key] - cut });
        excess -= cut;
      }
    }
  }

  function totalOf(vs: number[], t: number): Resources {
    let cpu = 0;
    let mem = 0;
    for (const v of vs) {
      const r = layout[v].get(t)!;
      cpu += r.cpu_cores;
      mem += r.mem_units;
    }
    return { cpu_cores: cpu, mem_units: mem };
  }

  function grow(t: number): boolean {
    const tier = instance.tiers[t];
    const held = totalOf(containersOf(t), t);
    let need = { cpu: tier.cpu - held.cpu_cores, mem: tier.mem - held.mem_units };
    const growInPlace = () => {
      for (const v of containersOf(t)) {
        const r = layout[v].get(t)!;
        const addCpu = Math.min(free[v].cpu, need.cpu);
        const addMem = Math.min(free[v].mem, need.mem);
        if (addCpu > 0 || addMem > 0) {
          put(v, t, { cpu_cores: r.cpu_cores + addCpu, mem_units: r.mem_units + addMem });
          need = { cpu: need.cpu - addCpu, mem: need.mem - addMem };
        }
      }
    };
    growInPlace();
    if ((need.cpu > 0 || need.mem > 0) && isCapped(t)) {
      // A capped tier would rather push uncapped neighbours off its VMs than move (deleting it may cost 100).
      for (const v of containersOf(t)) {
        if (need.cpu <= 0 && need.mem <= 0) break;
        for (const other of [...layout[v].keys()]) {
          if (free[v].cpu >= need.cpu && free[v].mem >= need.mem) break;
          if (isEvictable(v, other, t)) evict(v, other);
        }
        growInPlace();
      }
    }
    let slots = tier.maxContainers - containersOf(t).length;
    const skipped = new Set<number>();
    while (need.cpu > 0 && need.mem > 0 && slots > 0) {
      const v = chooseVm(t, need, slots, skipped);
      if (v === undefined) break;
      const size = containerSize(v, need);
      if (!size) {
        skipped.add(v);
        continue;
      }
      const { cpu, mem } = size;
      put(v, t, { cpu_cores: cpu, mem_units: mem });
      need = { cpu: need.cpu - cpu, mem: need.mem - mem };
      slots -= 1;
    }
    growInPlace();
    return need.cpu === 0 && need.mem === 0;
  }

  /**
   * As much of the need as the VM takes, but never so much of one resource that the rest of the other
   * could not be split into containers of at least 1 core and 1 unit each.
   */
  function containerSize(v: number, need: { cpu: number; mem: number }): { cpu: number; mem: number } | undefined {
    let cpu = Math.min(free[v].cpu, need.cpu);
    let mem = Math.min(free[v].mem, need.mem);
    for (;;) {
      if (cpu < 1 || mem < 1) return undefined;
      const restCpu = need.cpu - cpu;
      const restMem = need.mem - mem;
      if (restCpu === 0 && restMem === 0) return { cpu, mem };
      const containers = Math.max(1, Math.ceil(restCpu / maxCpu), Math.ceil(restMem / maxMem));
      if (restCpu >= containers && restMem >= containers) return { cpu, mem };
      if (restCpu < containers) cpu -= containers - restCpu;
      else mem -= containers - restMem;
    }
  }

  function chooseVm(t: number, need: { cpu: number; mem: number }, slots: number, skipped: Set<number>): number | undefined {
    const rank = (v: number) => (layout[v].size > 0 ? 0 : instance.vms[v].isNew ? 2 : 1);
    const room = (v: number) => Math.min(free[v].cpu / need.cpu, free[v].mem / need.mem);
    const candidates = instance.vms.map((_, v) => v)
      .filter((v) => !skipped.has(v) && !layout[v].has(t) && mayHost(instance, v, t) && free[v].cpu >= 1 && free[v].mem >= 1);
    const whole = candidates.filter((v) => free[v].cpu >= need.cpu && free[v].mem >= need.mem);
    if (whole.length > 0) {
      const leftover = (v: number) => (free[v].cpu - need.cpu) / instance.vms[v].cpu + (free[v].mem - need.mem) / instance.vms[v].mem;
      return whole.reduce((a, b) => (rank(b) < rank(a) || (rank(b) === rank(a) && leftover(b) < leftover(a)) ? b : a));
    }
    if (!Number.isFinite(slots)) {
      return candidates.reduce<number | undefined>((a, b) => (a === undefined || rank(b) < rank(a) || (rank(b) === rank(a) && room(b) > room(a)) ? b : a), undefined);
    }
    // A capped tier must get at least its share of what is left into each remaining container.
    const share = { cpu: Math.ceil(need.cpu / slots), mem: Math.ceil(need.mem / slots) };
    const fitting = candidates.filter((v) => free[v].cpu >= share.cpu && free[v].mem >= share.mem);
    if (fitting.length > 0) return fitting.reduce((a, b) => (room(b) > room(a) || (room(b) === room(a) && rank(b) < rank(a)) ? b : a));
    return evictFor(t, share, skipped);
  }

  /** Makes room for a capped tier's share by moving cheaper tiers' containers off one VM (they are placed again later). */
  function evictFor(t: number, share: { cpu: number; mem: number }, skipped: Set<number>): number | undefined {
    let best: number | undefined;
    let bestMoved = Infinity;
    instance.vms.forEach((vm, v) => {
      // A VM given up on for this tier stays given up on: offering it again would loop for ever.
      if (layout[v].has(t) || skipped.has(v) || !mayHost(instance, v, t)) return;
      let cpu = free[v].cpu;
      let mem = free[v].mem;
      let moved = 0;
      for (const [other, r] of layout[v]) {
        if (!isEvictable(v, other, t)) continue;
        cpu += r.cpu_cores;
        mem += r.mem_units;
        moved += r.cpu_cores / maxCpu + r.mem_units / maxMem;
      }
      if (cpu < share.cpu || mem < share.mem) return;
      if (vm.prior.has(t)) moved -= 1000;
      if (moved < bestMoved) {
        best = v;
        bestMoved = moved;
      }
    });
    if (best === undefined) return undefined;
    for (const other of [...layout[best].keys()]) if (isEvictable(best, other, t)) evict(best, other);
    return best;
  }
}

/**
 * A layout built from nothing for the fewest VMs and containers: each tier split evenly into the
 * fewest containers that can hold it, the containers packed largest first (best fit) onto VMs
 * already opened, preferring a VM where the tier ran before (keeping is cheaper than creating); a VM
 * is opened only when no open one has room, an existing one before a new one. On a fleet that the
 * current allocation spreads thin this packs far tighter than repairing it.
 */
export function packedLayout(instance: AllocationInstance): Layout | undefined {
  const layout: Layout = instance.vms.map(() => new Map());
  const free = instance.vms.map((vm) => ({ cpu: vm.cpu, mem: vm.mem }));
  const maxCpu = Math.max(...instance.vms.map((vm) => vm.cpu), 1);
  const maxMem = Math.max(...instance.vms.map((vm) => vm.mem), 1);
  const items: Array<{ t: number; cpu: number; mem: number }> = [];
  instance.tiers.forEach((tier, t) => {
    const pinned = instance.vms.filter((_, v) => mustKeep(instance, v, t)).length;
    let n = Math.max(1, pinned, Math.ceil(tier.cpu / maxCpu), Math.ceil(tier.mem / maxMem));
    if (n > Math.min(tier.maxContainers, tier.cpu, tier.mem)) n = Math.min(tier.maxContainers, tier.cpu, tier.mem);
    for (let i = 0; i < n; i++) {
      items.push({ t, cpu: Math.floor(tier.cpu / n) + (i < tier.cpu % n ? 1 : 0), mem: Math.floor(tier.mem / n) + (i < tier.mem % n ? 1 : 0) });
    }
  });
  items.sort((a, b) => b.cpu / maxCpu + b.mem / maxMem - (a.cpu / maxCpu + a.mem / maxMem));
  // Containers to keep take the tier's largest pieces on their own VMs, before anything else.
  const pinnedOf = instance.tiers.map((_, t) => instance.vms.flatMap((_vm, v) => (mustKeep(instance, v, t) ? [v] : [])));
  for (let k = 0; k < items.length; k++) {
    const item = items[k];
    const v = pinnedOf[item.t].shift();
    if (v === undefined) continue;
    if (free[v].cpu < item.cpu || free[v].mem < item.mem) return undefined;
    layout[v].set(item.t, { cpu_cores: item.cpu, mem_units: item.mem });
    free[v].cpu -= item.cpu;
    free[v].mem -= item.mem;
    items.splice(k--, 1);
  }
  if (pinnedOf.some((vs) => vs.length > 0)) return undefined;
  for (const item of items) {
    const fits = (v: number) => !layout[v].has(item.t) && mayHost(instance, v, item.t) && free[v].cpu >= item.cpu && free[v].mem >= item.mem;
    const leftover = (v: number) => (free[v].cpu - item.cpu) / maxCpu + (free[v].mem - item.mem) / maxMem;
    const open = instance.vms.map((_, v) => v).filter((v) => layout[v].size > 0 && fits(v));
    const home = open.filter((v) => instance.vms[v].prior.has(item.t));
    const closed = instance.vms.map((_, v) => v).filter((v) => layout[v].size === 0 && fits(v));
    const pick = (vs: number[]) => vs.reduce<number | undefined>((best, v) => (best === undefined || leftover(v) < leftover(best) ? v : best), undefined);
    const v = pick(home) ?? pick(open)
      ?? pick(closed.filter((x) => instance.vms[x].prior.has(item.t)))
      ?? pick(closed.filter((x) => !instance.vms[x].isNew))
      ?? closed[0];
    if (v === undefined) return undefined;
    layout[v].set(item.t, { cpu_cores: item.cpu, mem_units: item.mem });
    free[v].cpu -= item.cpu;
    free[v].mem -= item.mem;
  }
  return layout;
}

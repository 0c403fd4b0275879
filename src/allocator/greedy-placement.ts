import { Resources } from '../domain/resources';
import { AllocationInstance, copyLayout, Layout } from './allocation-instance';

/**
 * A quick feasible layout, built by repairing a starting layout (normally the current allocation):
 * tiers over their container cap or over their new size shed and shrink containers, then tiers
 * that need more grow their containers in place and create containers where there is room —
 * on VMs already in use first, then on idle existing VMs, then on new VMs in order. Most plans
 * change little, so this keeps most containers where they are. Returns undefined when it gets
 * stuck; that proves nothing (the exact solver decides).
 */
export function greedyLayout(instance: AllocationInstance, start: Layout): Layout | undefined {
  const layout = copyLayout(start);
  const free = instance.vms.map((vm, v) => {
    let cpu = vm.cpu;
    let mem = vm.mem;
    for (const r of layout[v].values()) {
      cpu -= r.cpu_cores;
      mem -= r.mem_units;
    }
    return { cpu, mem };
  });
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

  // Shed and shrink first, so that the room they free is there when other tiers grow.
  instance.tiers.forEach((tier, t) => {
    const size = (v: number) => layout[v].get(t)!.cpu_cores + layout[v].get(t)!.mem_units;
    let vs = containersOf(t).sort((a, b) => size(b) - size(a));
    const cap = Math.min(tier.maxContainers, tier.cpu, tier.mem);
    while (vs.length > cap) put(vs.pop()!, t, undefined);
    // Fewer containers are cheaper (deleting costs 1, keeping 3): drop the smallest while the rest still hold the plan.
    let sum = totalOf(layout, vs, t);
    while (vs.length > 1) {
      const last = layout[vs[vs.length - 1]].get(t)!;
      if (sum.cpu_cores - last.cpu_cores < tier.cpu || sum.mem_units - last.mem_units < tier.mem) break;
      put(vs.pop()!, t, undefined);
      sum = totalOf(layout, vs, t);
    }
    shrinkTo(vs, t, 'cpu_cores', tier.cpu);
    shrinkTo(vs, t, 'mem_units', tier.mem);
  });

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

  const deficit = (t: number) => {
    const sum = totalOf(layout, containersOf(t), t);
    return { cpu: instance.tiers[t].cpu - sum.cpu_cores, mem: instance.tiers[t].mem - sum.mem_units };
  };
  // The hardest tiers first: one that may not be spread needs a single VM with room for all of it.
  const order = instance.tiers
    .map((_, t) => t)
    .filter((t) => { const d = deficit(t); return d.cpu > 0 || d.mem > 0; })
    .sort((a, b) => {
      const ta = instance.tiers[a];
      const tb = instance.tiers[b];
      return ta.maxContainers - tb.maxContainers || tb.cpu / instance.vms.length + tb.mem - (ta.cpu / instance.vms.length + ta.mem);
    });
  for (const t of order) {
    if (grow(t)) continue;
    // Stuck with the containers it has (a tier capped at few containers whose VMs are full): start the tier over.
    for (const v of containersOf(t)) put(v, t, undefined);
    if (!grow(t)) return undefined;
  }
  return layout;

  function grow(t: number): boolean {
    const tier = instance.tiers[t];
    let need = deficit(t);
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
    let slots = tier.maxContainers - containersOf(t).length;
    const rank = (v: number) => (layout[v].size > 0 ? 0 : instance.vms[v].isNew ? 2 : 1);
    const candidates = instance.vms
      .map((_, v) => v)
      .filter((v) => !layout[v].has(t))
      .sort((a, b) => rank(a) - rank(b) || room(b) - room(a) || a - b);
    function room(v: number) {
      return Math.min(free[v].cpu / Math.max(1, need.cpu), free[v].mem / Math.max(1, need.mem));
    }
    for (const v of candidates) {
      if ((need.cpu === 0 && need.mem === 0) || slots <= 0) break;
      if (need.cpu === 0 || need.mem === 0) break;
      let cpu = Math.min(free[v].cpu, need.cpu);
      let mem = Math.min(free[v].mem, need.mem);
      if (cpu < 1 || mem < 1) continue;
      // Never leave one resource finished and the other not: a later container needs at least 1 of each.
      const cpuDone = cpu === need.cpu;
      const memDone = mem === need.mem;
      if (cpuDone && !memDone && slots > 1) {
        if (cpu < 2) continue;
        cpu -= 1;
      } else if (memDone && !cpuDone && slots > 1) {
        if (mem < 2) continue;
        mem -= 1;
      }
      put(v, t, { cpu_cores: cpu, mem_units: mem });
      need = { cpu: need.cpu - cpu, mem: need.mem - mem };
      slots -= 1;
    }
    growInPlace();
    return need.cpu === 0 && need.mem === 0;
  }
}

function totalOf(layout: Layout, vs: number[], t: number): Resources {
  let cpu = 0;
  let mem = 0;
  for (const v of vs) {
    const r = layout[v].get(t)!;
    cpu += r.cpu_cores;
    mem += r.mem_units;
  }
  return { cpu_cores: cpu, mem_units: mem };
}

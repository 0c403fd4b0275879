import { AllocationInstance, Layout, vmCost, freeRoom, mayHost, mustKeep } from '../model/allocation-instance';

/** Part of tier `t` moved from VM `from` to VM `to` (into its container there, or a new one). */
interface Transfer {
  t: number;
  from: number;
  to: number;
  cpu: number;
  mem: number;
}

/**
 * Hill climbing with container moves, each applied only when it lowers the cost:
 * - dissolve: a container's cores and units are spread over the same tier's containers on other
 *   VMs that have room (fewer containers are cheaper: keeping costs 3, deleting 1);
 * - home: a container moves back to a VM where its tier ran before (keeping is cheaper than creating);
 * - empty: every container of a VM is dissolved or moved whole to a VM in use, freeing the VM.
 * Microseconds per move, so it reaches a local optimum on any fleet before the exact neighbourhood
 * search spends its budget.
 */
export function improveByMoves(instance: AllocationInstance, start: Layout, deadlineMs: number): Layout {
  const layout = start.map((m) => new Map(m));
  const free = freeRoom(instance, layout);
  const vmIds = instance.vms.map((_, v) => v);
  const usedCount = () => layout.reduce((s, h) => s + (h.size > 0 ? 1 : 0), 0);

  /** Applies the transfers if the result is valid and cheaper; returns whether it did. */
  const apply = (transfers: Transfer[]): boolean => {
    const touched = [...new Set(transfers.flatMap((x) => [x.from, x.to]))];
    const trial = new Map(touched.map((v) => [v, new Map(layout[v])]));
    const room = new Map(touched.map((v) => [v, { ...free[v] }]));
    for (const x of transfers) {
      const source = trial.get(x.from)!.get(x.t);
      if (!source) return false;
      const left = { cpu_cores: source.cpu_cores - x.cpu, mem_units: source.mem_units - x.mem };
      if (left.cpu_cores < 0 || left.mem_units < 0 || (left.cpu_cores === 0) !== (left.mem_units === 0)) return false;
      if (left.cpu_cores === 0) {
        // A container to keep never goes.
        if (mustKeep(instance, x.from, x.t)) return false;
        trial.get(x.from)!.delete(x.t);
      }
      else trial.get(x.from)!.set(x.t, left);
      room.get(x.from)!.cpu += x.cpu;
      room.get(x.from)!.mem += x.mem;
      const target = trial.get(x.to)!;
      const there = target.get(x.t);
      // A new container only where the tier may run.
      if (!there && !mayHost(instance, x.to, x.t)) return false;
      const grown = { cpu_cores: (there?.cpu_cores ?? 0) + x.cpu, mem_units: (there?.mem_units ?? 0) + x.mem };
      if (grown.cpu_cores < 1 || grown.mem_units < 1) return false;
      target.set(x.t, grown);
      room.get(x.to)!.cpu -= x.cpu;
      room.get(x.to)!.mem -= x.mem;
    }
    for (const v of touched) if (room.get(v)!.cpu < 0 || room.get(v)!.mem < 0) return false;
    // Container caps: a move may create a container only where it also removes one.
    const counts = new Map<number, number>();
    for (const x of transfers) {
      if (counts.has(x.t)) continue;
      let n = 0;
      for (let v = 0; v < layout.length; v++) if ((trial.get(v) ?? layout[v]).has(x.t)) n += 1;
      counts.set(x.t, n);
      if (n > instance.tiers[x.t].maxContainers) return false;
    }
    if (instance.maxVms !== undefined) {
      const used = layout.reduce((s, h, v) => s + ((trial.get(v) ?? h).size > 0 ? 1 : 0), 0);
      if (used > instance.maxVms && used > usedCount()) return false;
    }
    const before = touched.reduce((s, v) => s + vmCost(instance, v, layout[v]), 0);
    const after = touched.reduce((s, v) => s + vmCost(instance, v, trial.get(v)!), 0);
    if (after >= before) return false;
    for (const v of touched) {
      layout[v] = trial.get(v)!;
      free[v] = room.get(v)!;
    }
    return true;
  };

  /** Spreads tier t's container on `a` over its containers elsewhere, within `rooms`; undefined when they lack room. */
  const dissolve = (t: number, a: number, rooms: Map<number, { cpu: number; mem: number }>): Transfer[] | undefined => {
    const r = layout[a].get(t)!;
    const hosts = vmIds.filter((b) => b !== a && layout[b].has(t));
    const room = (b: number) => rooms.get(b) ?? free[b];
    let cpu = r.cpu_cores;
    let mem = r.mem_units;
    const parts = new Map<number, { cpu: number; mem: number }>();
    for (const b of hosts.slice().sort((x, y) => room(y).cpu - room(x).cpu)) {
      const take = Math.min(cpu, Math.max(0, room(b).cpu));
      if (take > 0) parts.set(b, { cpu: take, mem: 0 });
      cpu -= take;
    }
    for (const b of hosts.slice().sort((x, y) => room(y).mem - room(x).mem)) {
      const take = Math.min(mem, Math.max(0, room(b).mem));
      if (take > 0) parts.set(b, { cpu: parts.get(b)?.cpu ?? 0, mem: take });
      mem -= take;
    }
    if (cpu > 0 || mem > 0) return undefined;
    return [...parts].map(([b, p]) => ({ t, from: a, to: b, cpu: p.cpu, mem: p.mem }));
  };

  /**
   * Splits tier t's container on `a` into new containers on VMs in use that have some room, each at
   * least 1 core and 1 unit (a fleet packed tight in one resource has room only in small pieces).
   */
  const split = (t: number, a: number, room: (b: number) => { cpu: number; mem: number }): Transfer[] | undefined => {
    const r = layout[a].get(t)!;
    let cpu = r.cpu_cores;
    let mem = r.mem_units;
    const transfers: Transfer[] = [];
    const targets = vmIds
      .filter((b) => b !== a && layout[b].size > 0 && !layout[b].has(t) && room(b).cpu >= 1 && room(b).mem >= 1)
      .sort((x, y) => room(y).cpu / cpu + room(y).mem / mem - (room(x).cpu / cpu + room(x).mem / mem));
    for (const b of targets) {
      if (cpu === 0) break;
      let c = Math.min(room(b).cpu, cpu);
      let m = Math.min(room(b).mem, mem);
      // Leave at least 1 of each for every piece still to come.
      if (c === cpu && m < mem) c = cpu - 1;
      if (m === mem && c < cpu) m = mem - 1;
      if (c < 1 || m < 1) continue;
      transfers.push({ t, from: a, to: b, cpu: c, mem: m });
      cpu -= c;
      mem -= m;
    }
    return cpu === 0 && mem === 0 ? transfers : undefined;
  };

  let improved = true;
  while (improved && Date.now() < deadlineMs) {
    improved = false;
    for (const a of vmIds) {
      for (const [t, r] of [...layout[a]]) {
        if (!layout[a].has(t)) continue;
        const spread = dissolve(t, a, new Map());
        if (spread && apply(spread)) {
          improved = true;
          continue;
        }
        // Home: back to a VM where the tier ran before, if the whole container fits there.
        const homes = vmIds.filter((b) => b !== a && instance.vms[b].prior.has(t) && !instance.vms[a].prior.has(t) && !layout[b].has(t)
          && free[b].cpu >= r.cpu_cores && free[b].mem >= r.mem_units);
        for (const b of homes) {
          if (apply([{ t, from: a, to: b, cpu: r.cpu_cores, mem: r.mem_units }])) {
            improved = true;
            break;
          }
        }
      }
    }
    // Emptying a VM, lightest first: each container dissolved where its tier runs, else moved whole.
    const load = (v: number) => 2 - free[v].cpu / instance.vms[v].cpu - free[v].mem / instance.vms[v].mem;
    for (const a of vmIds.filter((v) => layout[v].size > 0).sort((x, y) => load(x) - load(y))) {
      if (Date.now() >= deadlineMs) break;
      const rooms = new Map<number, { cpu: number; mem: number }>();
      const room = (b: number) => rooms.get(b) ?? { ...free[b] };
      const transfers: Transfer[] = [];
      let ok = true;
      for (const [t, r] of layout[a]) {
        const spread = dissolve(t, a, rooms);
        const chosen = spread ?? (() => {
          const fits = vmIds.filter((b) => b !== a && layout[b].size > 0 && !layout[b].has(t) && room(b).cpu >= r.cpu_cores && room(b).mem >= r.mem_units);
          const b = fits.find((x) => instance.vms[x].prior.has(t)) ?? fits[0];
          return b === undefined ? split(t, a, room) : [{ t, from: a, to: b, cpu: r.cpu_cores, mem: r.mem_units }];
        })();
        if (!chosen) {
          ok = false;
          break;
        }
        for (const x of chosen) {
          const left = room(x.to);
          rooms.set(x.to, { cpu: left.cpu - x.cpu, mem: left.mem - x.mem });
        }
        transfers.push(...chosen);
      }
      if (ok && transfers.length > 0 && apply(transfers)) improved = true;
    }
  }
  return layout;
}

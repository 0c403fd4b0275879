import { Resources } from '../domain/resources';
import { AllocationInstance, Layout, vmCost } from './allocation-instance';

/**
 * Hill climbing with whole-container moves, each accepted only when it lowers the cost:
 * - merge: a tier's container moves into the same tier's container on another VM;
 * - home: a container moves back to a VM where its tier ran before (keeping is cheaper than creating);
 * - empty: every container of a VM moves elsewhere (merging where it can), freeing the VM.
 * Microseconds per move, so it runs to a local optimum on any fleet before the exact
 * neighbourhood search spends its budget.
 */
export function improveByMoves(instance: AllocationInstance, start: Layout, deadlineMs: number): Layout {
  const layout = start.map((m) => new Map(m));
  const free = instance.vms.map((vm, v) => {
    let cpu = vm.cpu;
    let mem = vm.mem;
    for (const r of layout[v].values()) {
      cpu -= r.cpu_cores;
      mem -= r.mem_units;
    }
    return { cpu, mem };
  });
  const count = instance.tiers.map(() => 0);
  for (const hosted of layout) for (const t of hosted.keys()) count[t] += 1;
  const fits = (v: number, r: Resources) => free[v].cpu >= r.cpu_cores && free[v].mem >= r.mem_units;

  /** Applies moves of whole containers if they lower the cost; each move is [tier, from, to]. */
  const tryMoves = (moves: Array<[number, number, number]>): boolean => {
    const touched = [...new Set(moves.flatMap(([, from, to]) => [from, to]))];
    const before = touched.reduce((s, v) => s + vmCost(instance, v, layout[v]), 0);
    const trial = new Map(touched.map((v) => [v, new Map(layout[v])]));
    const trialFree = new Map(touched.map((v) => [v, { ...free[v] }]));
    const trialCount = count.slice();
    for (const [t, from, to] of moves) {
      const r = trial.get(from)!.get(t);
      if (!r) return false;
      const target = trial.get(to)!;
      const there = target.get(t);
      const room = trialFree.get(to)!;
      if (room.cpu < r.cpu_cores || room.mem < r.mem_units) return false;
      target.set(t, there ? { cpu_cores: there.cpu_cores + r.cpu_cores, mem_units: there.mem_units + r.mem_units } : r);
      trial.get(from)!.delete(t);
      room.cpu -= r.cpu_cores;
      room.mem -= r.mem_units;
      trialFree.get(from)!.cpu += r.cpu_cores;
      trialFree.get(from)!.mem += r.mem_units;
      if (there) trialCount[t] -= 1;
      // The only way a move adds a container is onto a VM without one; the source's is gone, so the count holds.
    }
    if (instance.maxVms !== undefined) {
      const used = layout.reduce((s, h, v) => s + ((trial.get(v) ?? h).size > 0 ? 1 : 0), 0);
      if (used > instance.maxVms) return false;
    }
    const after = touched.reduce((s, v) => s + vmCost(instance, v, trial.get(v)!), 0);
    if (after >= before) return false;
    for (const v of touched) {
      layout[v] = trial.get(v)!;
      free[v] = trialFree.get(v)!;
    }
    trialCount.forEach((c, t) => (count[t] = c));
    return true;
  };

  const vmIds = instance.vms.map((_, v) => v);
  let improved = true;
  while (improved && Date.now() < deadlineMs) {
    improved = false;
    // Merge and home moves.
    for (const a of vmIds) {
      for (const [t, r] of [...layout[a]]) {
        const targets = vmIds.filter((b) => b !== a && (layout[b].has(t) || (instance.vms[b].prior.has(t) && !instance.vms[a].prior.has(t))) && fits(b, r));
        for (const b of targets) {
          if (tryMoves([[t, a, b]])) {
            improved = true;
            break;
          }
        }
      }
    }
    // Emptying a VM: its containers go, lightest VMs first, each to the best place that takes it whole.
    const used = vmIds.filter((v) => layout[v].size > 0)
      .sort((a, b) => free[b].cpu / instance.vms[b].cpu + free[b].mem / instance.vms[b].mem - (free[a].cpu / instance.vms[a].cpu + free[a].mem / instance.vms[a].mem));
    for (const a of used) {
      if (layout[a].size === 0) continue;
      const moves: Array<[number, number, number]> = [];
      const reserved = new Map<number, { cpu: number; mem: number }>();
      let ok = true;
      for (const [t, r] of layout[a]) {
        const room = (b: number) => reserved.get(b) ?? free[b];
        const candidates = vmIds.filter((b) => b !== a && layout[b].size > 0 && room(b).cpu >= r.cpu_cores && room(b).mem >= r.mem_units);
        const merge = candidates.find((b) => layout[b].has(t));
        const home = candidates.find((b) => instance.vms[b].prior.has(t) && !layout[b].has(t));
        const any = candidates.find((b) => !layout[b].has(t));
        const b = merge ?? home ?? any;
        if (b === undefined) {
          ok = false;
          break;
        }
        moves.push([t, a, b]);
        reserved.set(b, { cpu: room(b).cpu - r.cpu_cores, mem: room(b).mem - r.mem_units });
      }
      if (ok && moves.length > 0 && tryMoves(moves)) improved = true;
    }
  }
  return layout;
}

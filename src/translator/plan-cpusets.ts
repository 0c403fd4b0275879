/**
 * Which cores each container of one VM gets, so that no two managed containers on a node ever share
 * a core — not even while a plan is being carried out.
 *
 * Invariant (make before break, for cores): an action that takes a core another container gives up
 * runs only after that release has finished. The translator enforces it in two places: a releasing
 * action is never scheduled in a later layer than an action taking its cores (see translate.ts), and
 * within a layer the executor finishes a VM's releases before starting its acquisitions.
 *
 * Cores in `occupied` (those running jobs are pinned to) are never given to a container: one that
 * holds such a core now gives it up for another.
 */
export interface CoreRequest {
  tier: string;
  /** Cores the container holds now (empty for a new container). */
  current: number[];
  /** Cores it must hold afterwards (0 = the container goes away). */
  wanted: number;
  /** Layer in which its action runs; unchanged containers have none. */
  layer?: number;
}

export interface CoreAssignment {
  cpuset: number[];
  /** Tiers whose released cores this container takes: their actions must not run after it. */
  takesFrom: string[];
}

export function planCpusets(capacityCores: number, requests: CoreRequest[], occupied: readonly number[] = []): Map<string, CoreAssignment> {
  const taken = new Set(occupied);
  const valid = (c: number) => c >= 0 && c < capacityCores;
  const free = (c: number) => valid(c) && !taken.has(c);
  const holder = new Map<number, string>();
  for (const r of requests) for (const c of r.current.filter(valid)) if (!holder.has(c)) holder.set(c, r.tier);

  const result = new Map<string, CoreAssignment>();
  const keptBy = new Map<number, string>();
  // Containers that stay keep as many of their own cores as they still need (lowest first).
  for (const r of requests) {
    const own = [...new Set(r.current.filter(free).filter((c) => holder.get(c) === r.tier))].sort((a, b) => a - b);
    const kept = own.slice(0, r.wanted);
    for (const c of kept) keptBy.set(c, r.tier);
    result.set(r.tier, { cpuset: kept, takesFrom: [] });
  }

  // Growing and new containers, earliest layer first, take cores nobody holds now before cores
  // that are being released, so that as few actions as possible have to wait for a release.
  const growing = requests
    .filter((r) => result.get(r.tier)!.cpuset.length < r.wanted)
    .sort((a, b) => (a.layer ?? 0) - (b.layer ?? 0) || a.tier.localeCompare(b.tier));
  const all = Array.from({ length: capacityCores }, (_, i) => i).filter(free);
  const neverHeld = all.filter((c) => !holder.has(c) && !keptBy.has(c));
  const released = all.filter((c) => holder.has(c) && !keptBy.has(c));
  for (const r of growing) {
    const assignment = result.get(r.tier)!;
    while (assignment.cpuset.length < r.wanted) {
      const core = neverHeld.shift() ?? released.shift();
      if (core === undefined) {
        throw new Error(`cannot place ${r.wanted} cores for '${r.tier}' on a ${capacityCores}-core VM${taken.size > 0 ? ` (${taken.size} held by jobs)` : ''}`);
      }
      const previous = holder.get(core);
      if (previous !== undefined && previous !== r.tier && !assignment.takesFrom.includes(previous)) assignment.takesFrom.push(previous);
      assignment.cpuset.push(core);
    }
    assignment.cpuset.sort((a, b) => a - b);
  }
  return result;
}

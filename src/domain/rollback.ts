import { placementOf, Placement, TierResources } from './allocation';
import { Cluster } from './cluster';
import { ConflictError } from './errors';
import { Execution, isFinished, kindOf } from './execution';
import { addResources, Resources, ZERO } from './resources';
import { Topology } from './topology';
import { newVmNames } from './vm';

/**
 * Rollback: back to the placement an execution started from (its `allocation_before`).
 *
 * - The same containers (same sizes) on the same VMs, where those VMs are still there; the cores
 *   they are pinned to are chosen afresh, as for any plan.
 * - A VM that is gone is replaced by a new one (an elastic cloud only: a static pool cannot grow,
 *   and a node it no longer has is refused).
 * - Tiers the topology no longer has are left out, and the rollback's record says so.
 * - Tiers running now that the execution did not start from are removed.
 */
export interface RollbackTarget {
  target: Placement;
  /** What a reader of the record should know: tiers left out, VMs replaced. */
  notes: string[];
}

/** Why an execution cannot be rolled back, or nothing when it can. */
export function rollbackRefusal(execution: Execution): string | undefined {
  if (!isFinished(execution.status)) return `execution '${execution.id}' is still ${execution.status}: cancel it or wait for it to finish`;
  if (!execution.allocation_before) {
    const why = execution.error ? ` (it failed before reading the cluster: ${execution.error.code}: ${execution.error.message})` : '';
    return `execution '${execution.id}' has no allocation_before to return to${why}`;
  }
  return undefined;
}

/**
 * The placement to reach to undo `execution`, over what runs now. Throws ConflictError when it
 * cannot be rolled back (see `rollbackRefusal`) or its placement cannot be had any more.
 */
export function rollbackTarget(
  execution: Execution,
  now: { topology: Topology; cluster: Cluster; elastic: boolean },
): RollbackTarget {
  const refusal = rollbackRefusal(execution);
  if (refusal) throw new ConflictError(refusal);
  const { topology, cluster, elastic } = now;
  const before = placementOf(execution.allocation_before!);
  const leftOut = new Set<string>();
  const gone: string[] = [];
  const kept: Placement = {};
  for (const [vm, tiers] of Object.entries(before)) {
    const wanted: TierResources = {};
    for (const [tier, r] of Object.entries(tiers)) {
      if (topology.tiers.has(tier)) wanted[tier] = { ...r };
      else leftOut.add(tier);
    }
    if (Object.keys(wanted).length === 0) continue;
    if (!cluster[vm]) gone.push(vm);
    kept[vm] = wanted;
  }
  if (gone.length > 0 && !elastic) {
    throw new ConflictError(`node(s) ${gone.map((v) => `'${v}'`).join(', ')} of the placement execution '${execution.id}' started from are no longer in the static pool`);
  }

  const target: Placement = {};
  const replacements = newVmNames([...Object.keys(cluster), ...Object.keys(before)], gone.length);
  const notes: string[] = [];
  for (const [vm, tiers] of Object.entries(kept)) {
    const at = gone.indexOf(vm);
    const name = at >= 0 ? replacements[at] : vm;
    const capacity = at >= 0 ? topology.infrastructure.vmSize : cluster[vm].vm.capacity;
    const used = Object.values(tiers).reduce<Resources>(addResources, ZERO);
    if (used.cpu_cores > capacity.cpu_cores || used.mem_units > capacity.mem_units) {
      const what = at >= 0 ? `a new VM (replacing '${vm}') has` : `VM '${vm}' now has`;
      throw new ConflictError(`the placement execution '${execution.id}' started from put ${used.cpu_cores} cores and ${used.mem_units} memory units on '${vm}'; ${what} ${capacity.cpu_cores} and ${capacity.mem_units}`);
    }
    target[name] = tiers;
  }
  if (leftOut.size > 0) notes.push(`tiers no longer in the topology are left out: ${[...leftOut].sort().join(', ')}`);
  if (gone.length > 0) notes.push(`VMs no longer there are replaced by new ones: ${gone.join(', ')}`);
  return { target, notes };
}

/**
 * Whether the `on_failure: rollback` policy undoes this finished execution: a failed plan that
 * changed something (an action ran), under a topology asking for it. Never a rollback (no loop), nor
 * an execution of the daemon's own.
 */
export function rollsBackAutomatically(execution: Execution, topology: Topology): boolean {
  if (topology.infrastructure.onFailure !== 'rollback') return false;
  if (execution.status !== 'failed' || kindOf(execution) !== 'plan' || !execution.allocation_before) return false;
  return execution.steps.some((layer) => layer.some((r) => r.status === 'running' || r.status === 'succeeded' || r.status === 'failed'));
}

import { Cluster, ContainerState, MISSING_STATE, needsStart } from './cluster';
import { Resources } from './resources';

/** A difference between what the executor placed and what an engine runs, found behind its back. */
export interface Drift {
  vm: string;
  tier: string;
  /**
   * `stopped`: exists but does not run; `removed`: gone; `resized`: cores or memory changed;
   * `unknown`: a managed container of the topology that the allocation does not list.
   */
  kind: 'stopped' | 'removed' | 'resized' | 'unknown';
  detail: string;
  /** Engine id of the container found (stopped, resized, unknown). */
  container_id?: string;
  /** What the engine reports for it (stopped, resized, unknown). */
  found?: { state: string; cpuset: number[]; resources: Resources };
}

/**
 * Compares the executor's record (`known`) with a full read of the engines (`observed`, same VMs;
 * VMs in `skip` are not compared). Only containers of the topology's tiers are looked at. On a VM
 * whose runtime does not pin cores (`pinsCores` false) the number of cores is compared, not which.
 */
export function findDrift(
  known: Cluster, observed: Cluster, memUnitMb: number, skip: ReadonlySet<string> = new Set(), pinsCores: (vm: string) => boolean = () => true,
): Drift[] {
  const drift: Drift[] = [];
  for (const [vm, state] of Object.entries(known)) {
    if (skip.has(vm) || !observed[vm]) continue;
    const seen = observed[vm].containers;
    for (const [tier, k] of Object.entries(state.containers)) {
      const o = seen[tier];
      if (!o || o.state === MISSING_STATE) {
        drift.push({ vm, tier, kind: 'removed', detail: `container '${tier}' on vm '${vm}' is gone` });
        continue;
      }
      const otherCores = pinsCores(vm) ? !sameCores(o.cpuset, k.cpuset) : o.resources.cpu_cores !== k.resources.cpu_cores;
      if (otherCores || o.resources.mem_units !== k.resources.mem_units) {
        drift.push({
          vm, tier, kind: 'resized', container_id: o.id, found: foundOf(o),
          detail: `container '${tier}' on vm '${vm}' has cpuset ${o.cpuset.join(',') || '(none)'} and ${o.resources.mem_units * memUnitMb} MiB; planned ${k.cpuset.join(',')} and ${k.resources.mem_units * memUnitMb} MiB`,
        });
      }
      if (needsStart(o)) {
        drift.push({ vm, tier, kind: 'stopped', container_id: o.id, found: foundOf(o), detail: `container '${tier}' on vm '${vm}' is ${o.state}` });
      }
    }
    for (const [tier, o] of Object.entries(seen)) {
      if (state.containers[tier]) continue;
      drift.push({ vm, tier, kind: 'unknown', container_id: o.id, found: foundOf(o), detail: `container '${tier}' (${o.id.slice(0, 12)}) on vm '${vm}' is not in the allocation` });
    }
  }
  return drift;
}

function foundOf(c: ContainerState): NonNullable<Drift['found']> {
  return { state: c.state, cpuset: [...c.cpuset], resources: { ...c.resources } };
}

/** Two cpusets, as the sorted core lists the executor writes, pin the same cores. */
export function sameCores(a: number[], b: number[]): boolean {
  return a.length === b.length && a.every((c, i) => c === b[i]);
}

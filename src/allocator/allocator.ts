import { Allocation, Placement, TierResources } from '../domain/allocation';
import { Resources } from '../domain/resources';

/**
 * The allocation problem of SPEC §3, in flat tier names.
 * `plan` is the whole desired state: every tier that should run, with its total resources;
 * a tier of the current allocation that is absent from `plan` is removed.
 */
export interface AllocationProblem {
  /** Size of a new VM. */
  vmSize: Resources;
  /** Upper bound on VMs in use after the change (existing that keep containers + new ones); undefined = no limit. */
  maxVms?: number;
  /** Existing VMs with their own capacity and what runs on them. */
  current: Allocation;
  plan: TierResources;
  /** Tiers with `max_node: 1`: one container at most, deleting it costs 100. */
  notScalable: string[];
  /** Container caps of the other tiers. */
  maxNode: Record<string, number>;
  /** Hard budget; when it runs out the best allocation found is returned with its bound. */
  timeLimitMs?: number;
  /**
   * Where a tier may have containers. A tier listed here may run only on the named existing VMs, and
   * on new VMs only when `newVms` is true; its existing containers elsewhere must go. Absent = anywhere.
   */
  placeable?: Record<string, { vms: string[]; newVms: boolean }>;
  /**
   * Existing containers that must stay where they are (node-local data), by VM: present in the
   * result on the same VM while the tier's plan is non-zero; their size may change.
   */
  keep?: Record<string, string[]>;
}

export interface AllocationResult {
  /** `{vm: {tier: {cpu_cores, mem_units}}}`, only VMs that host something. New VMs carry placeholder names. */
  placement: Placement;
  /** The placeholder names of new VMs used by `placement`, in order. */
  newVms: string[];
  cost: number;
  /** Best lower bound proven on the cost; equal to `cost` when optimal. */
  lowerBound: number;
  optimal: boolean;
}

/** Throws NoSolutionError when no allocation exists within maxVms. */
export interface Allocator {
  allocate(problem: AllocationProblem): Promise<AllocationResult>;
}

import { addResources, Resources, ZERO } from './resources';

/** Resources per flat tier name. */
export type TierResources = Record<string, Resources>;

/** One VM as the solver and the API see it: its capacity and what its containers use. */
export interface VmAllocation {
  cpu_cores: number;
  mem_units: number;
  used: TierResources;
}

/** `{vm: {cpu_cores, mem_units, used: {flat_tier: {cpu_cores, mem_units}}}}` */
export type Allocation = Record<string, VmAllocation>;

/** The solver's answer: `{vm: {flat_tier: {cpu_cores, mem_units}}}`, only VMs that host something. */
export type Placement = Record<string, TierResources>;

/** Total resources of every tier, summed over VMs. */
export function tierTotals(placement: Placement): TierResources {
  const totals: TierResources = {};
  for (const used of Object.values(placement)) {
    for (const [tier, r] of Object.entries(used)) totals[tier] = addResources(totals[tier] ?? ZERO, r);
  }
  return totals;
}

export function placementOf(allocation: Allocation): Placement {
  const placement: Placement = {};
  for (const [vm, a] of Object.entries(allocation)) {
    if (Object.keys(a.used).length > 0) placement[vm] = { ...a.used };
  }
  return placement;
}

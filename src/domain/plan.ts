import { TierResources } from './allocation';
import { ValidationError } from './errors';
import { isZero } from './resources';
import { Topology } from './topology';

/**
 * A plan as received: only the tiers it names, by flat name. `{0, 0}` means remove the tier.
 * Tiers it does not name keep their current totals (mergePlan).
 */
export type PartialPlan = TierResources;

export function resolveFlatName(key: string, topology: Topology): string {
  if (topology.tiers.has(key)) return key;
  const matches = [...topology.tiers.values()].filter((t) => t.tier === key || `${t.app}-${t.tier}` === key);
  if (matches.length === 1) return matches[0].flatName;
  if (matches.length > 1) {
    throw new ValidationError(key, `tier name '${key}' is ambiguous (${matches.map((t) => t.flatName).join(', ')}); use <app>_<tier>`);
  }
  throw new ValidationError(key, `unknown tier '${key}' (name a tier as <app>_<tier>, <app>-<tier>, or by a tier name no other app uses)`);
}

/** Every name POST /api/executor accepts for each tier, by flat name: `<app>_<tier>` first. */
export function flatPlanNames(topology: Topology): Map<string, string[]> {
  const names = new Map<string, string[]>();
  for (const t of topology.tiers.values()) {
    const candidates = [...new Set([t.flatName, `${t.app}-${t.tier}`, t.tier])];
    names.set(t.flatName, candidates.filter((name) => {
      try {
        return resolveFlatName(name, topology) === t.flatName;
      } catch {
        return false;
      }
    }));
  }
  return names;
}

/**
 * The whole desired state: the plan over the current totals. A tier the plan leaves out keeps what
 * it has; `{0, 0}` removes it. (The original deleted every tier a plan left out, which wiped
 * deployments whenever its planner sent a partial plan.)
 */
export function mergePlan(partial: PartialPlan, currentTotals: TierResources): TierResources {
  const merged: TierResources = { ...currentTotals };
  for (const [tier, r] of Object.entries(partial)) {
    if (isZero(r)) delete merged[tier];
    else merged[tier] = r;
  }
  return merged;
}

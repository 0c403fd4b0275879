import { TierResources } from './allocation';
import { ValidationError } from './errors';
import { readInteger, readObject } from './json-reader';
import { flatTierName } from './names';
import { isZero, Resources } from './resources';
import { Topology } from './topology';

/**
 * A plan as received: only the tiers it names, by flat name. `{0, 0}` means remove the tier.
 * Tiers it does not name keep their current totals (mergePlan).
 */
export type PartialPlan = TierResources;

/** `{app: {tier: {cpu_cores, mem_units}}}` (PUT /api/translate, /api/execute). */
export function parseNestedPlan(input: unknown, topology: Topology): PartialPlan {
  const body = readObject(input, '');
  const plan: PartialPlan = {};
  for (const [app, tiersValue] of Object.entries(body)) {
    if (!topology.apps.some((a) => a.name === app)) throw new ValidationError(app, `unknown app '${app}'`);
    const tiers = readObject(tiersValue, app);
    for (const [tier, value] of Object.entries(tiers)) {
      const flat = flatTierName(app, tier);
      if (!topology.tiers.has(flat)) throw new ValidationError(`${app}.${tier}`, `unknown tier '${tier}' of app '${app}'`);
      plan[flat] = parseTierResources(value, `${app}.${tier}`);
    }
  }
  return plan;
}

/**
 * `{"<app>_<tier>" | "<app>-<tier>" | "<tier>": {cpu_cores, mem_units}}` (POST /api/executor, the
 * ecoware-core planner's format; its own tests name tiers `pwitter-web` for app `pwitter`, tier `web`).
 * A name that is not a flat name must name exactly one tier, as `<app>-<tier>` or as a bare tier name.
 */
export function parseFlatPlan(input: unknown, topology: Topology): PartialPlan {
  const body = readObject(input, '');
  const plan: PartialPlan = {};
  for (const [key, value] of Object.entries(body)) {
    const flat = resolveFlatName(key, topology);
    if (flat in plan) throw new ValidationError(key, `tier '${flat}' is given twice`);
    plan[flat] = parseTierResources(value, key);
  }
  return plan;
}

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

export function parseTierResources(value: unknown, field: string): Resources {
  const obj = readObject(value, field);
  const known = new Set(['cpu_cores', 'mem_units']);
  for (const key of Object.keys(obj)) {
    if (!known.has(key)) throw new ValidationError(`${field}.${key}`, 'unknown field (expected cpu_cores and mem_units)');
  }
  if (obj.cpu_cores === undefined) throw new ValidationError(`${field}.cpu_cores`, 'is required');
  if (obj.mem_units === undefined) throw new ValidationError(`${field}.mem_units`, 'is required');
  const r = {
    cpu_cores: readInteger(obj.cpu_cores, `${field}.cpu_cores`, { min: 0, max: 1_000_000 }),
    mem_units: readInteger(obj.mem_units, `${field}.mem_units`, { min: 0, max: 1_000_000_000 }),
  };
  if ((r.cpu_cores === 0) !== (r.mem_units === 0)) {
    throw new ValidationError(field, 'cpu_cores and mem_units must both be zero (remove the tier) or both positive');
  }
  return r;
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

import { ValidationError } from '../domain/errors';
import { flatTierName } from '../domain/names';
import { PartialPlan, resolveFlatName } from '../domain/plan';
import { Resources } from '../domain/resources';
import { Topology } from '../domain/topology';
import { closedObject, readShape, REQUIRED, wholeNumber } from '../schema/shape';
import { z } from 'zod';

/** A tier's resources in a plan: `{cpu_cores, mem_units}`, both zero (remove the tier) or both positive. */
const TIER_RESOURCES = closedObject({
  cpu_cores: wholeNumber({ required: REQUIRED, min: 0, max: 1_000_000 }),
  mem_units: wholeNumber({ required: REQUIRED, min: 0, max: 1_000_000_000 }),
}, 'cpu_cores and mem_units');

const OBJECT = z.record(z.string(), z.unknown(), { invalid_type_error: 'must be an object', required_error: 'must be an object' });

/** `{app: {tier: {cpu_cores, mem_units}}}` (PUT /api/translate, /api/execute). */
export function parseNestedPlan(input: unknown, topology: Topology): PartialPlan {
  const body = readShape(OBJECT, input, '');
  const plan: PartialPlan = {};
  for (const [app, tiersValue] of Object.entries(body)) {
    if (!topology.apps.some((a) => a.name === app)) throw new ValidationError(app, `unknown app '${app}'`);
    const tiers = readShape(OBJECT, tiersValue, app);
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
  const body = readShape(OBJECT, input, '');
  const plan: PartialPlan = {};
  for (const [key, value] of Object.entries(body)) {
    const flat = resolveFlatName(key, topology);
    if (flat in plan) throw new ValidationError(key, `tier '${flat}' is given twice`);
    plan[flat] = parseTierResources(value, key);
  }
  return plan;
}

export function parseTierResources(value: unknown, field: string): Resources {
  const r = readShape(TIER_RESOURCES, value, field);
  if ((r.cpu_cores === 0) !== (r.mem_units === 0)) {
    throw new ValidationError(field, 'cpu_cores and mem_units must both be zero (remove the tier) or both positive');
  }
  return r;
}

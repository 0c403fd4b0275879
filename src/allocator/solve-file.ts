import { Allocation, Placement, TierResources } from '../domain/allocation';
import { ValidationError } from '../domain/errors';
import { readBoolean, readInteger, readObject, readOptionalInteger, readStringArray } from '../domain/json-reader';
import { AllocationProblem } from './allocator';
import { AllocatorOptions, createAllocator } from './hybrid-allocator';

/** What `ecoware-executor solve` prints: the original's shape plus the proven bound. */
export interface SolveOutput {
  allocation: Placement;
  cost: number;
  lower_bound: number;
  optimal: boolean;
}

/**
 * The allocator alone, on the ecoware-executor solver's own input:
 * `{"infrastructure": {"cpu_cores", "mem_units", "max_vms"?}, "allocation": {vm: {cpu_cores, mem_units, used?}},
 * "plan": {tier: {cpu_cores, mem_units}}, "not_scalable"?: [tier], "max_node"?: {tier: N},
 * "placeable"?: {tier: {"vms": [vm], "new_vms": bool}}, "keep"?: {vm: [tier]}}`.
 * Throws ValidationError naming the field for bad input, NoSolutionError when no allocation exists.
 */
export async function solveDocument(input: unknown, options: AllocatorOptions = {}): Promise<SolveOutput> {
  const problem = parseSolveDocument(input);
  const result = await createAllocator(options).allocate(problem);
  return { allocation: result.placement, cost: result.cost, lower_bound: result.lowerBound, optimal: result.optimal };
}

export function parseSolveDocument(input: unknown): AllocationProblem {
  const doc = readObject(input, '');
  rejectUnknown(doc, '', ['infrastructure', 'allocation', 'plan', 'not_scalable', 'max_node', 'placeable', 'keep']);
  const infra = readObject(doc.infrastructure, 'infrastructure');
  const vmSize = {
    cpu_cores: readInteger(infra.cpu_cores, 'infrastructure.cpu_cores', { min: 1 }),
    mem_units: readInteger(infra.mem_units, 'infrastructure.mem_units', { min: 1 }),
  };
  const maxVms = readOptionalInteger(infra.max_vms, 'infrastructure.max_vms', { min: 0 });

  const current: Allocation = {};
  for (const [vm, value] of Object.entries(readObject(doc.allocation ?? {}, 'allocation'))) {
    const field = `allocation.${vm}`;
    const obj = readObject(value, field);
    rejectUnknown(obj, field, ['cpu_cores', 'mem_units', 'used']);
    current[vm] = {
      cpu_cores: obj.cpu_cores === undefined ? vmSize.cpu_cores : readInteger(obj.cpu_cores, `${field}.cpu_cores`, { min: 0 }),
      mem_units: obj.mem_units === undefined ? vmSize.mem_units : readInteger(obj.mem_units, `${field}.mem_units`, { min: 0 }),
      used: readTierResources(obj.used ?? {}, `${field}.used`, 1),
    };
  }
  const plan = readTierResources(doc.plan, 'plan', 0);

  const notScalable = doc.not_scalable === undefined ? [] : readStringArray(doc.not_scalable, 'not_scalable');
  const maxNode: Record<string, number> = {};
  for (const [tier, n] of Object.entries(readObject(doc.max_node ?? {}, 'max_node'))) {
    maxNode[tier] = readInteger(n, `max_node.${tier}`, { min: 1 });
  }
  const placeable: Record<string, { vms: string[]; newVms: boolean }> = {};
  for (const [tier, value] of Object.entries(readObject(doc.placeable ?? {}, 'placeable'))) {
    const field = `placeable.${tier}`;
    const obj = readObject(value, field);
    rejectUnknown(obj, field, ['vms', 'new_vms']);
    placeable[tier] = { vms: readStringArray(obj.vms ?? [], `${field}.vms`), newVms: obj.new_vms === undefined ? true : readBoolean(obj.new_vms, `${field}.new_vms`) };
  }
  const keep: Record<string, string[]> = {};
  for (const [vm, tiers] of Object.entries(readObject(doc.keep ?? {}, 'keep'))) keep[vm] = readStringArray(tiers, `keep.${vm}`);
  return { vmSize, maxVms, current, plan, notScalable, maxNode, placeable, keep };
}

function readTierResources(value: unknown, field: string, min: number): TierResources {
  const out: TierResources = {};
  for (const [tier, r] of Object.entries(readObject(value, field))) {
    const obj = readObject(r, `${field}.${tier}`);
    rejectUnknown(obj, `${field}.${tier}`, ['cpu_cores', 'mem_units']);
    const cpu = readInteger(obj.cpu_cores, `${field}.${tier}.cpu_cores`, { min });
    const mem = readInteger(obj.mem_units, `${field}.${tier}.mem_units`, { min });
    if ((cpu === 0) !== (mem === 0)) {
      throw new ValidationError(`${field}.${tier}`, 'cpu_cores and mem_units must both be zero or both positive');
    }
    out[tier] = { cpu_cores: cpu, mem_units: mem };
  }
  return out;
}

function rejectUnknown(obj: Record<string, unknown>, field: string, known: string[]): void {
  for (const key of Object.keys(obj)) {
    if (!known.includes(key)) throw new ValidationError(field ? `${field}.${key}` : key, 'unknown field');
  }
}

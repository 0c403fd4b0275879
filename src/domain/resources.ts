/**
 * A bundle of the two resources the executor places: whole CPU cores and memory units.
 * The wire format (plans, allocations, the solver's input) uses these snake_case names,
 * so the domain keeps them: no translation layer between JSON and the core.
 */
export interface Resources {
  cpu_cores: number;
  mem_units: number;
}

export const ZERO: Resources = Object.freeze({ cpu_cores: 0, mem_units: 0 });

export function addResources(a: Resources, b: Resources): Resources {
  return { cpu_cores: a.cpu_cores + b.cpu_cores, mem_units: a.mem_units + b.mem_units };
}

export function isZero(r: Resources): boolean {
  return r.cpu_cores === 0 && r.mem_units === 0;
}

export function sameResources(a: Resources, b: Resources): boolean {
  return a.cpu_cores === b.cpu_cores && a.mem_units === b.mem_units;
}

export function formatResources(r: Resources): string {
  return `cpu cores=${r.cpu_cores} and mem_units=${r.mem_units}`;
}

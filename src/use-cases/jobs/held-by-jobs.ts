import { AllocationProblem } from '../../allocator';
import { Placement } from '../../domain/allocation';
import { Cluster } from '../../domain/cluster';
import { HeldByJobsError } from '../../domain/errors';
import { JobHolding } from './job-holdings';

/** What running jobs hold on one VM, in the allocator's units. */
export interface HeldOnVm {
  cores: number;
  /** Memory units (a job's memory rounded up to whole units of the topology). */
  memUnits: number;
  /** The cores they are pinned to (empty where the runtime does not pin cores). */
  cpuset: number[];
  jobs: JobHolding[];
}

/** Running jobs' holdings by VM; memory in units of `memUnitMb`, rounded up. */
export function heldByVm(holdings: readonly JobHolding[], memUnitMb: number): Map<string, HeldOnVm> {
  const held = new Map<string, HeldOnVm>();
  for (const h of holdings) {
    const onVm = held.get(h.vm) ?? { cores: 0, memUnits: 0, cpuset: [], jobs: [] };
    onVm.cores += h.cpuset.length > 0 ? h.cpuset.length : h.cores;
    onVm.memUnits += Math.ceil(h.memoryMb / memUnitMb);
    for (const c of h.cpuset) if (!onVm.cpuset.includes(c)) onVm.cpuset.push(c);
    onVm.jobs.push(h);
    held.set(h.vm, onVm);
  }
  for (const onVm of held.values()) onVm.cpuset.sort((a, b) => a - b);
  return held;
}

/**
 * The problem as the tiers may have it: every VM offers its capacity less what running jobs hold
 * there (never less than its tiers use now). A VM the jobs fill, running no tier, is left out; it
 * still exists, so it lowers `maxVms` as a cordoned empty VM does.
 */
export function offerWithoutHeld(problem: AllocationProblem, held: ReadonlyMap<string, HeldOnVm>): AllocationProblem {
  if (held.size === 0) return problem;
  const current: AllocationProblem['current'] = {};
  let leftOut = 0;
  for (const [vm, a] of Object.entries(problem.current)) {
    const h = held.get(vm);
    if (!h) {
      current[vm] = a;
      continue;
    }
    const used = Object.values(a.used).reduce((s, r) => ({ cores: s.cores + r.cpu_cores, mem: s.mem + r.mem_units }), { cores: 0, mem: 0 });
    const cpu = Math.max(used.cores, a.cpu_cores - h.cores);
    const mem = Math.max(used.mem, a.mem_units - h.memUnits);
    if ((cpu === 0 || mem === 0) && used.cores === 0 && used.mem === 0) {
      leftOut++;
      continue;
    }
    current[vm] = { cpu_cores: cpu, mem_units: mem, used: a.used };
  }
  return { ...problem, current, maxVms: problem.maxVms === undefined ? undefined : Math.max(0, problem.maxVms - leftOut) };
}

/**
 * Why a plan fails for the jobs: given a placement that would meet it if the jobs held nothing, how
 * many cores and memory units it needs from them, and which jobs hold them where.
 */
export function heldByJobsError(
  placement: Placement, capacity: ReadonlyMap<string, { cpu_cores: number; mem_units: number }>, held: ReadonlyMap<string, HeldOnVm>,
): HeldByJobsError {
  let cores = 0;
  let units = 0;
  const where: HeldOnVm[] = [];
  for (const [vm, h] of held) {
    const cap = capacity.get(vm);
    if (!cap) continue;
    const tiers = Object.values(placement[vm] ?? {});
    const overCores = Math.max(0, tiers.reduce((s, r) => s + r.cpu_cores, 0) + h.cores - cap.cpu_cores);
    const overUnits = Math.max(0, tiers.reduce((s, r) => s + r.mem_units, 0) + h.memUnits - cap.mem_units);
    cores += Math.min(overCores, h.cores);
    units += Math.min(overUnits, h.memUnits);
    if (overCores > 0 || overUnits > 0) where.push(h);
  }
  // The placement found may use the jobs' room differently from the one the tiers would get: then name them all.
  const named = (where.length > 0 ? where : [...held.values()]).flatMap((h) => h.jobs);
  const needs = [
    ...(cores > 0 ? [`${cores} core${cores === 1 ? '' : 's'}`] : []),
    ...(units > 0 ? [`${units} memory unit${units === 1 ? '' : 's'}`] : []),
  ];
  return new HeldByJobsError(`the plan needs ${needs.length > 0 ? needs.join(' and ') : 'cores or memory'} that running jobs hold: ${named.map(describeHolding).join(', ')}`);
}

export function describeHolding(h: JobHolding): string {
  return `job ${h.job} on ${h.vm} (${h.cores} core${h.cores === 1 ? '' : 's'}, ${h.memoryMb} MB${h.deadline ? `, until ${h.deadline}` : ''})`;
}

/**
 * For a given placement (no solving: drift repair, rollback, a drain's target): refuses a VM whose
 * tiers would need what its jobs hold.
 */
export function checkTargetRoom(target: Placement, cluster: Cluster, held: ReadonlyMap<string, HeldOnVm>): void {
  const capacity = capacityOf(cluster);
  for (const vm of held.keys()) {
    const cap = capacity.get(vm);
    const tiers = Object.values(target[vm] ?? {});
    if (!cap || tiers.length === 0) continue;
    const h = held.get(vm)!;
    const cores = tiers.reduce((s, r) => s + r.cpu_cores, 0);
    const units = tiers.reduce((s, r) => s + r.mem_units, 0);
    if (cores + h.cores > cap.cpu_cores || units + h.memUnits > cap.mem_units) throw heldByJobsError(target, capacity, held);
  }
}

export function capacityOf(cluster: Cluster): Map<string, { cpu_cores: number; mem_units: number }> {
  return new Map(Object.entries(cluster).map(([vm, s]) => [vm, s.vm.capacity]));
}

/** The cores the jobs are pinned to, by VM, for the translator (only VMs whose runtime pins cores). */
export function occupiedCores(held: ReadonlyMap<string, HeldOnVm>, pinsCores: (vm: string) => boolean): Record<string, number[]> {
  return Object.fromEntries([...held].filter(([vm, h]) => pinsCores(vm) && h.cpuset.length > 0).map(([vm, h]) => [vm, [...h.cpuset]]));
}

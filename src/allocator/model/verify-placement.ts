import { AllocationProblem, AllocationResult } from '../allocator';
import { placementCost } from './placement-cost';

/**
 * Every rule of SPEC §3 checked on an answer, independently of how it was found. Returns the
 * violations in words; an empty list means the answer is valid. Solvers round floating-point
 * values, so a checker that trusts nothing is what keeps a wrong answer from reaching Docker.
 */
export function verifyPlacement(problem: AllocationProblem, result: AllocationResult): string[] {
  const violations: string[] = [];
  const newVms = new Set(result.newVms);
  const notScalable = new Set(problem.notScalable);
  const totals = new Map<string, { cpu: number; mem: number; containers: number }>();

  for (const name of result.newVms) {
    if (name in problem.current) violations.push(`new VM '${name}' has the name of an existing VM`);
  }
  for (const [vmName, hosted] of Object.entries(result.placement)) {
    const existing = problem.current[vmName];
    if (!existing && !newVms.has(vmName)) violations.push(`VM '${vmName}' is neither an existing VM nor a new one`);
    const capacity = existing
      ? { cpu: existing.cpu_cores, mem: existing.mem_units }
      : { cpu: problem.vmSize.cpu_cores, mem: problem.vmSize.mem_units };
    let cpu = 0;
    let mem = 0;
    const tiers = Object.entries(hosted);
    if (tiers.length === 0) violations.push(`VM '${vmName}' is listed but hosts nothing`);
    for (const [tier, r] of tiers) {
      if (!Number.isInteger(r.cpu_cores) || !Number.isInteger(r.mem_units)) {
        violations.push(`'${tier}' on '${vmName}' has fractional resources ${r.cpu_cores}/${r.mem_units}`);
      }
      if (r.cpu_cores < 1 || r.mem_units < 1) violations.push(`'${tier}' on '${vmName}' has less than 1 core or 1 unit`);
      if (!(tier in problem.plan)) violations.push(`'${tier}' on '${vmName}' is not in the plan`);
      cpu += r.cpu_cores;
      mem += r.mem_units;
      const total = totals.get(tier) ?? { cpu: 0, mem: 0, containers: 0 };
      totals.set(tier, { cpu: total.cpu + r.cpu_cores, mem: total.mem + r.mem_units, containers: total.containers + 1 });
    }
    if (cpu > capacity.cpu || mem > capacity.mem) {
      violations.push(`VM '${vmName}' is over capacity: ${cpu}/${capacity.cpu} cores, ${mem}/${capacity.mem} units`);
    }
  }
  for (const name of result.newVms) {
    if (!(name in result.placement)) violations.push(`new VM '${name}' hosts nothing`);
  }
  for (const [tier, r] of Object.entries(problem.plan)) {
    const total = totals.get(tier) ?? { cpu: 0, mem: 0, containers: 0 };
    if (total.cpu !== r.cpu_cores || total.mem !== r.mem_units) {
      violations.push(`tier '${tier}' gets ${total.cpu} cores/${total.mem} units, the plan says ${r.cpu_cores}/${r.mem_units}`);
    }
    const cap = notScalable.has(tier) ? 1 : problem.maxNode[tier];
    if (cap !== undefined && total.containers > cap) {
      violations.push(`tier '${tier}' runs in ${total.containers} containers, at most ${cap} allowed`);
    }
  }
  for (const [tier, where] of Object.entries(problem.placeable ?? {})) {
    for (const [vmName, hosted] of Object.entries(result.placement)) {
      if (!(tier in hosted)) continue;
      const allowed = newVms.has(vmName) ? where.newVms : where.vms.includes(vmName);
      if (!allowed) violations.push(`'${tier}' on '${vmName}' where it is not placeable`);
    }
  }
  for (const [vmName, tiers] of Object.entries(problem.keep ?? {})) {
    for (const tier of tiers) {
      const planned = problem.plan[tier] && (problem.plan[tier].cpu_cores > 0 || problem.plan[tier].mem_units > 0);
      if (planned && !result.placement[vmName]?.[tier]) violations.push(`'${tier}' on '${vmName}' must be kept but is gone`);
    }
  }
  const vmsInUse = Object.keys(result.placement).length;
  if (problem.maxVms !== undefined && vmsInUse > problem.maxVms) {
    violations.push(`${vmsInUse} VMs in use, at most ${problem.maxVms} allowed`);
  }
  const cost = placementCost(problem, result.placement);
  if (cost !== result.cost) violations.push(`reported cost ${result.cost} but the placement costs ${cost}`);
  if (result.lowerBound > result.cost) violations.push(`lower bound ${result.lowerBound} above cost ${result.cost}`);
  if (result.optimal && result.lowerBound !== result.cost) violations.push('optimal but the lower bound differs from the cost');
  return violations;
}

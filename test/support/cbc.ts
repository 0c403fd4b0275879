import { execFile, execFileSync } from 'child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import { AllocationProblem } from '../../src/allocator/allocator';
import { buildInstance, maximumUsefulNewVms, minimumNewVms } from '../../src/allocator/model/allocation-instance';
import { buildAllocationMip } from '../../src/allocator/exact/allocation-mip';
import { toLpText } from '../../src/allocator/exact/mip-model';

export interface CbcAnswer {
  /**
   * `stopped`: the time limit ended the search; `cost` is then CBC's best layout, or undefined when it
   * found none (CBC then prints its continuous relaxation's value, a bound, not a cost).
   */
  status: 'optimal' | 'infeasible' | 'stopped';
  cost?: number;
  /** Wall time, model writing included: on a loaded machine far above the CPU time. */
  seconds: number;
  /** CBC's own CPU seconds over every count of new VMs tried (what its time limit counts). */
  cpuSeconds?: number;
}

export function hasCbc(): boolean {
  try {
    execFileSync('cbc', ['-quit'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/**
 * The same allocation problem solved by Debian's CBC: the model written as an LP file, the number of
 * new VMs raised from the deficit's K while CBC proves the previous count infeasible (SPEC §3).
 * CBC's `sec` limit counts its CPU seconds (its `timeMode` is `cpu` by default), and so does the
 * time left for the next count: CBC's answer barely depends on the machine's load, only its wall time does.
 */
export async function solveWithCbc(problem: AllocationProblem, timeLimitSeconds: number): Promise<CbcAnswer> {
  const dir = mkdtempSync(join(tmpdir(), 'ecoware-cbc-'));
  const startedMs = Date.now();
  let cpuSeconds = 0;
  try {
    const plan = Object.fromEntries(Object.entries(problem.plan).filter(([, r]) => r.cpu_cores > 0 || r.mem_units > 0));
    const sized = { ...problem, plan };
    const fewest = minimumNewVms(sized);
    const most = maximumUsefulNewVms(sized);
    for (let k = fewest; k <= most; k++) {
      const mip = buildAllocationMip(buildInstance(sized, k));
      const lpFile = join(dir, `model${k}.lp`);
      const solutionFile = join(dir, `solution${k}.txt`);
      writeFileSync(lpFile, toLpText(mip.model));
      const left = Math.max(1, timeLimitSeconds - cpuSeconds);
      const output = await run('cbc', [lpFile, 'sec', String(Math.ceil(left)), 'solve', 'solu', solutionFile]);
      cpuSeconds += Number(/Total time \(CPU seconds\):\s+([\d.]+)/.exec(output)?.[1] ?? left);
      const firstLine = readFileSync(solutionFile, 'utf8').split('\n')[0];
      const objective = /objective value\s+(-?[\d.eE+-]+)/.exec(firstLine);
      const cost = objective ? Math.round(Number(objective[1]) + mip.model.offset) : undefined;
      const seconds = (Date.now() - startedMs) / 1000;
      if (firstLine.startsWith('Optimal')) return { status: 'optimal', cost, seconds, cpuSeconds };
      if (/^Infeasible|^Integer infeasible/.test(firstLine)) continue;
      // "Stopped on time (no integer solution - continuous used) - objective value X": X is the
      // relaxation's, not a layout's.
      const found = !/infeasible|no integer solution/i.test(firstLine);
      return { status: 'stopped', cost: found ? cost : undefined, seconds, cpuSeconds };
    }
    return { status: 'infeasible', seconds: (Date.now() - startedMs) / 1000, cpuSeconds };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Runs `command`, resolving with its standard output. */
function run(command: string, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(command, args, { maxBuffer: 64 * 1024 * 1024 }, (err, stdout) => (err ? reject(err) : resolve(stdout)));
  });
}

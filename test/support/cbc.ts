import { execFile, execFileSync } from 'child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import { AllocationProblem } from '../../src/allocator/allocator';
import { buildInstance, maximumUsefulNewVms, minimumNewVms } from '../../src/allocator/model/allocation-instance';
import { buildAllocationMip } from '../../src/allocator/exact/allocation-mip';
import { toLpText } from '../../src/allocator/exact/mip-model';

export interface CbcAnswer {
  /** `stopped`: the time limit ended the search; `cost` is then CBC's best, if it had one. */
  status: 'optimal' | 'infeasible' | 'stopped';
  cost?: number;
  seconds: number;
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
 */
export async function solveWithCbc(problem: AllocationProblem, timeLimitSeconds: number): Promise<CbcAnswer> {
  const dir = mkdtempSync(join(tmpdir(), 'ecoware-cbc-'));
  const startedMs = Date.now();
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
      const left = Math.max(1, timeLimitSeconds - (Date.now() - startedMs) / 1000);
      await run('cbc', [lpFile, 'sec', String(Math.ceil(left)), 'solve', 'solu', solutionFile]);
      const firstLine = readFileSync(solutionFile, 'utf8').split('\n')[0];
      const objective = /objective value\s+(-?[\d.eE+-]+)/.exec(firstLine);
      const cost = objective ? Math.round(Number(objective[1]) + mip.model.offset) : undefined;
      const seconds = (Date.now() - startedMs) / 1000;
      if (firstLine.startsWith('Optimal')) return { status: 'optimal', cost, seconds };
      if (/^Infeasible|^Integer infeasible/.test(firstLine)) continue;
      return { status: 'stopped', cost: /infeasible/i.test(firstLine) ? undefined : cost, seconds };
    }
    return { status: 'infeasible', seconds: (Date.now() - startedMs) / 1000 };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function run(command: string, args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    execFile(command, args, { maxBuffer: 64 * 1024 * 1024 }, (err) => (err ? reject(err) : resolve()));
  });
}

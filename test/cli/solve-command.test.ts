import { spawnSync } from 'child_process';
import { readFileSync } from 'fs';
import * as path from 'path';
import { referenceFile } from '../support/reference';

/** `ecoware-executor solve` as a user runs it: the built CLI, a problem on stdin or in a file. */
const CLI = path.join(__dirname, '../../dist/cli.js');
const CASES = referenceFile('ecoware-solver-cases');
const load = (name: string) => JSON.parse(readFileSync(path.join(CASES, name), 'utf8'));

function solve(problem: unknown) {
  const run = spawnSync(process.execPath, [CLI, 'solve', '-'], { input: JSON.stringify(problem), encoding: 'utf8' });
  return { code: run.status, stdout: run.stdout, stderr: run.stderr };
}

describe('ecoware-executor solve', () => {
  it('prints the allocation and its proven optimal cost for reference case 1', () => {
    const result = solve({ infrastructure: { cpu_cores: 2, mem_units: 8 }, allocation: load('allocation1.json'), plan: load('plan1.json') });
    expect(result.code).toBe(0);
    const output = JSON.parse(result.stdout);
    expect(output).toMatchObject({ cost: 32, optimal: true, lower_bound: 32 });
    const totals: Record<string, { cpu_cores: number; mem_units: number }> = {};
    for (const tiers of Object.values(output.allocation) as Record<string, { cpu_cores: number; mem_units: number }>[]) {
      for (const [tier, r] of Object.entries(tiers)) {
        totals[tier] = { cpu_cores: (totals[tier]?.cpu_cores ?? 0) + r.cpu_cores, mem_units: (totals[tier]?.mem_units ?? 0) + r.mem_units };
      }
    }
    expect(totals).toEqual(load('plan1.json'));
  });

  it('exits non-zero saying "No solution found" for reference case 10', () => {
    const result = solve({ infrastructure: { cpu_cores: 2, mem_units: 8 }, allocation: load('allocation10.json'), plan: load('plan10.json') });
    expect(result.code).not.toBe(0);
    expect(result.stderr).toMatch(/No solution found/);
  });

  it('names the field of a malformed problem', () => {
    const result = solve({ infrastructure: { cpu_cores: 2 }, allocation: {}, plan: {} });
    expect(result.code).not.toBe(0);
    expect(result.stderr).toMatch(/infrastructure\.mem_units/);
  });
});

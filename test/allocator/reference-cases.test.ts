import { readFileSync, existsSync } from 'fs';
import { join } from 'path';
import { NoSolutionError } from '../../src/domain/errors';
import { createAllocator, placementCost, verifyPlacement } from '../../src/allocator';
import { parseSolveDocument, solveDocument } from '../../src/allocator/solve-file';
import { referenceFile } from '../support/reference';

const CASES_DIR = referenceFile('ecoware-solver-cases');
const readCase = (name: string): unknown => JSON.parse(readFileSync(join(CASES_DIR, name), 'utf8'));

/** The original's test cases, VM size 2 cores / 8 units, as the `solve` command's input. */
function caseDocument(n: number): unknown {
  return {
    infrastructure: { cpu_cores: 2, mem_units: 8 },
    allocation: readCase(`allocation${n}.json`),
    plan: readCase(`plan${n}.json`),
  };
}

describe('allocator on the ecoware-executor reference cases', () => {
  it.each([
    [1, 32], [3, 28], [4, 37], [5, 54], [6, 48], [7, 14], [9, 21],
  ])('case %i reaches the known optimum %i', async (n, optimum) => {
    const problem = parseSolveDocument(caseDocument(n));
    const result = await createAllocator().allocate(problem);
    expect(verifyPlacement(problem, result)).toEqual([]);
    expect(result.cost).toBe(optimum);
    expect(result.optimal).toBe(true);
    expect(result.lowerBound).toBe(optimum);
    // The original's own answer costs the same under the same weights.
    const resultFile = join(CASES_DIR, `result${n}.json`);
    if (existsSync(resultFile)) expect(placementCost(problem, readCase(`result${n}.json`) as never)).toBe(optimum);
  });

  it('case 2, a plan equal to what runs, keeps the current placement at the cost of keeping everything', async () => {
    const problem = parseSolveDocument(caseDocument(2));
    const result = await createAllocator().allocate(problem);
    expect(result.placement).toEqual({ vm1: { db: { cpu_cores: 1, mem_units: 2 } }, vm2: { jboss: { cpu_cores: 2, mem_units: 1 } } });
    expect(result.newVms).toEqual([]);
    expect(result.cost).toBe(3 + 3 + 11 + 11);
  });

  it('case 8, an empty plan, removes everything', async () => {
    const out = await solveDocument(caseDocument(8));
    expect(out.allocation).toEqual({});
    expect(out.cost).toBe(2);
  });

  it('case 10 has no solution for any number of new VMs', async () => {
    await expect(solveDocument(caseDocument(10))).rejects.toThrow(NoSolutionError);
    await expect(solveDocument(caseDocument(10))).rejects.toThrow(/No solution found/);
  });

  it('case 6 places everything on new VMs named new_vm0 and new_vm1', async () => {
    const problem = parseSolveDocument(caseDocument(6));
    const result = await createAllocator().allocate(problem);
    expect(result.newVms.sort()).toEqual(['new_vm0', 'new_vm1']);
    expect(Object.keys(result.placement).sort()).toEqual(['new_vm0', 'new_vm1']);
  });
});

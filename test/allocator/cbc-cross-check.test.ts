import { createAllocator, verifyPlacement } from '../../src/allocator';
import { NoSolutionError } from '../../src/domain/errors';
import { buildInstance, maximumUsefulNewVms } from '../../src/allocator/model/allocation-instance';
import { lowerBound } from '../../src/allocator/model/lower-bound';
import { generateSmallProblem } from '../support/allocation-problems';
import { hasCbc, solveWithCbc } from '../support/cbc';

const cbcInstalled = hasCbc();
if (!cbcInstalled) {
  // eslint-disable-next-line no-console
  console.warn('SKIPPED: the CBC cross-check needs the `cbc` binary (apt-get install -y coinor-cbc)');
}
const describeWithCbc = cbcInstalled ? describe : describe.skip;

describeWithCbc('allocator against CBC on random small problems', () => {
  const seeds = Array.from({ length: 30 }, (_, i) => i + 1);
  const outcomes: string[] = [];

  it.each(seeds)('seed %i: same optimum, or both find no solution', async (seed) => {
    const problem = generateSmallProblem(seed);
    const cbc = await solveWithCbc(problem, 60);
    expect(cbc.status).not.toBe('stopped');
    let cost: number | 'infeasible';
    try {
      const result = await createAllocator().allocate(problem);
      expect(verifyPlacement(problem, result)).toEqual([]);
      expect(result.optimal).toBe(true);
      cost = result.cost;
    } catch (err) {
      if (!(err instanceof NoSolutionError)) throw err;
      cost = 'infeasible';
    }
    outcomes.push(String(cost));
    expect(cost).toBe(cbc.status === 'infeasible' ? 'infeasible' : cbc.cost);
    // The cheap bound reported for fleets too large to prove must never exceed a proven optimum.
    if (typeof cost === 'number') {
      const plan = Object.fromEntries(Object.entries(problem.plan).filter(([, r]) => r.cpu_cores > 0));
      const sized = { ...problem, plan };
      expect(lowerBound(buildInstance(sized, maximumUsefulNewVms(sized)))).toBeLessThanOrEqual(cost);
    }
  });

  afterAll(() => {
    // The generator is meant to produce both kinds; a table of only one kind would check half the contract.
    expect(outcomes.filter((o) => o === 'infeasible').length).toBeGreaterThan(0);
    expect(outcomes.filter((o) => o !== 'infeasible').length).toBeGreaterThan(15);
  });
});

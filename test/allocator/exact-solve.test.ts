import { buildInstance, isValidLayout, layoutCost, minimumNewVms } from '../../src/allocator/model/allocation-instance';
import { solveInstanceExactly } from '../../src/allocator/exact/exact-solve';
import { generateFleetProblem, generateScaleOutProblem } from '../support/allocation-problems';

/**
 * The polish's helper solves the whole model without HiGHS' restart (large-path.ts,
 * HELPER_WHOLE_MODEL_RESTART): HiGHS refuses an option it does not know, and without the restart it
 * must still reach and prove the same optimum, only by another way.
 */
describe('the whole model without HiGHS restart', () => {
  it('proves the same optimum as with it', async () => {
    const problems = [1, 2, 3].flatMap((seed) => [generateScaleOutProblem({ vms: 6, tiers: 4, seed }), generateFleetProblem({ vms: 6, tiers: 5, seed })]);
    for (const [i, problem] of problems.entries()) {
      const instance = buildInstance(problem, minimumNewVms(problem));
      const [withRestart, without] = [
        await solveInstanceExactly(instance, { timeLimitMs: 20_000 }),
        await solveInstanceExactly(instance, { timeLimitMs: 20_000, restart: false }),
      ];
      expect([i, withRestart.status, without.status]).toEqual([i, 'optimal', 'optimal']);
      expect(isValidLayout(instance, without.layout!)).toBe(true);
      expect([i, layoutCost(instance, without.layout!)]).toEqual([i, layoutCost(instance, withRestart.layout!)]);
    }
  });
});

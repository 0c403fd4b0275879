import { buildInstance, currentLayout, isValidLayout, maximumUsefulNewVms } from '../../src/allocator/model/allocation-instance';
import { greedyLayout } from '../../src/allocator/search/greedy-placement';
import { createAllocator, verifyPlacement } from '../../src/allocator';
import { AllocationProblem } from '../../src/allocator/allocator';
import { generateFleetProblem, generateScaleOutProblem } from '../support/allocation-problems';

/**
 * The time limit is a promise to the caller: whatever the instance, an answer (or a proven "no
 * solution") comes within it, give or take the few milliseconds a stage needs to notice. The slack
 * allowed here is generous because the machine is shared; a stage that ignored the budget overruns
 * it by seconds or never returns.
 */
const SLACK_MS = 250;

async function timed(problem: AllocationProblem, timeLimitMs: number) {
  const started = Date.now();
  const result = await createAllocator({ timeLimitMs }).allocate(problem);
  return { result, ms: Date.now() - started };
}

describe('bounded solves', () => {
  it('answers the first exact-size plan within its budget, though the solver is not compiled yet', async () => {
    // This file's module registry is fresh: HiGHS has not been compiled yet (seconds of CPU, too
    // many for this budget: the search answers).
    const problem = generateFleetProblem({ vms: 6, tiers: 5, seed: 1 });
    const { result, ms } = await timed(problem, 300);
    expect(verifyPlacement(problem, result)).toEqual([]);
    expect(ms).toBeLessThan(300 + SLACK_MS);
  });

  it('repairs a fleet whose capped tiers need room the evictions cannot make, instead of spinning', () => {
    // A fleet that must grow, with not-scalable tiers spread over several VMs by hand: the greedy
    // repair once offered the same VM again and again to a capped tier it could not take.
    const problem = generateScaleOutProblem({ vms: 50, tiers: 20, seed: 17, brokenSingles: true });
    const instance = buildInstance(problem, maximumUsefulNewVms(problem));
    const layout = greedyLayout(instance, currentLayout(instance));
    expect(layout && isValidLayout(instance, layout)).toBe(true);
  });

  it.each([
    [50, 20, 17, 1000],
    [50, 20, 17, 100],
    [100, 50, 16, 300],
    [20, 20, 15, 200],
  ])('solves the %i × %i fleet that must grow (seed %i) within %i ms', async (vms, tiers, seed, limit) => {
    const problem = generateScaleOutProblem({ vms, tiers, seed, brokenSingles: true });
    const { result, ms } = await timed(problem, limit);
    expect(verifyPlacement(problem, result)).toEqual([]);
    expect(ms).toBeLessThan(limit + SLACK_MS);
  });
});

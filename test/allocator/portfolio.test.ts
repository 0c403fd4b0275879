import { execFile } from 'child_process';
import * as path from 'path';
import { createAllocator, verifyPlacement, warmUpAllocator } from '../../src/allocator';
import { AllocationProblem } from '../../src/allocator/allocator';
import { buildInstance, isValidLayout, layoutCost, minimumNewVms } from '../../src/allocator/model/allocation-instance';
import { packLayout, runHelperTask, unpackLayout } from '../../src/allocator/portfolio/helper-tasks';
import { carriedFluidLayout } from '../../src/allocator/search/container-search';
import { cheapestLayout, searchStarts } from '../../src/allocator/search/search-starts';
import { generateFleetProblem, generateScaleOutProblem } from '../support/allocation-problems';

/**
 * The portfolio (`solverThreads` > 1): helper threads run stages of the same solve side by side,
 * within the same budget. From the TypeScript sources the helpers compile their code on the fly, so
 * these tests run the real threads.
 */
describe('the allocator on several threads', () => {
  // A polish long enough for HiGHS to prove these fleets' optima (CBC's 146 and 136), so that the
  // answers do not hang on how much of the machine each solve got.
  const settings = { reuseLastPlan: false, polishTimeLimitMs: 8000 };
  const one = createAllocator({ ...settings, solverThreads: 1 });
  const two = createAllocator({ ...settings, solverThreads: 2 });
  beforeAll(() => Promise.all([warmUpAllocator(), two.warmUp()]), 120_000);
  afterAll(() => two.close());

  it('answers validly, never dearer than one thread, and proves no less', async () => {
    const problems = [1, 2].map((seed) => generateFleetProblem({ vms: 10, tiers: 10, seed }));
    for (const [i, problem] of problems.entries()) {
      const alone = await one.allocate(problem);
      const together = await two.allocate(problem);
      expect(verifyPlacement(problem, together)).toEqual([]);
      expect([i, together.cost <= alone.cost]).toEqual([i, true]);
      expect(together.lowerBound).toBeLessThanOrEqual(together.cost);
      expect([i, together.optimal || !alone.optimal || together.cost < alone.cost]).toEqual([i, true]);
    }
  }, 120_000);

  it('answers the large path too, where the helpers search and run the restricted model', async () => {
    const problem = generateScaleOutProblem({ vms: 50, tiers: 20, seed: 1 });
    const result = await two.allocate(problem);
    expect(verifyPlacement(problem, result)).toEqual([]);
    expect(result.lowerBound).toBeLessThanOrEqual(result.cost);
  }, 60_000);
});

describe("a helper's stages", () => {
  beforeAll(() => warmUpAllocator(), 60_000);

  it('the exact stage from a start returns a valid layout no dearer than it and a bound below its cost', async () => {
    const problem = generateScaleOutProblem({ vms: 20, tiers: 10, seed: 2 });
    const k = minimumNewVms(problem);
    const instance = buildInstance(problem, k);
    const start = cheapestLayout(instance, searchStarts(instance, Date.now() + 1000))!;
    const answer = await runHelperTask({ kind: 'exact', problem, k, deadlineMs: Date.now() + 2000, start: packLayout(start) });
    expect(isValidLayout(instance, unpackLayout(answer.layout!))).toBe(true);
    expect(layoutCost(instance, unpackLayout(answer.layout!))).toBe(answer.cost);
    expect(answer.cost).toBeLessThanOrEqual(layoutCost(instance, start));
    expect(answer.bound).toBeLessThanOrEqual(answer.cost!);
    expect(answer.bound).toBeGreaterThan(0);
  });

  it('the exact stage restricted to some pairs places containers on existing VMs only there, and claims no bound', async () => {
    const problem = generateScaleOutProblem({ vms: 20, tiers: 10, seed: 2 });
    const k = minimumNewVms(problem);
    const instance = buildInstance(problem, k);
    const T = instance.tiers.length;
    const start = cheapestLayout(instance, searchStarts(instance, Date.now() + 1000))!;
    // The start's own containers and nothing else on the existing VMs: where the model may not add one.
    const pairs = start.slice(0, instance.existingVmCount).flatMap((hosted, v) => [...hosted.keys()].map((t) => v * T + t));
    const answer = await runHelperTask({ kind: 'exact', problem, k, deadlineMs: Date.now() + 2000, pairs, seed: 1 });
    const layout = unpackLayout(answer.layout!);
    expect(isValidLayout(instance, layout)).toBe(true);
    const outside = layout.slice(0, instance.existingVmCount).flatMap((hosted, v) => [...hosted.keys()].map((t) => v * T + t)).filter((pair) => !pairs.includes(pair));
    expect(outside).toEqual([]);
    expect(answer.bound).toBe(-Infinity);
  });

  it('the search stage with the relaxation returns its own layout, the bound and the containers the relaxation opens', async () => {
    const problem = generateScaleOutProblem({ vms: 20, tiers: 20, seed: 4 });
    const k = minimumNewVms(problem);
    const answer = await runHelperTask({ kind: 'search', problem, k, deadlineMs: Date.now() + 1000, seed: 2, starts: [], relax: true });
    const instance = buildInstance(problem, k);
    expect(layoutCost(instance, unpackLayout(answer.layout!))).toBe(answer.cost);
    expect(answer.support!.length).toBeGreaterThan(0);
    expect(answer.bound).toBeGreaterThan(0);
    expect(answer.bound).toBeLessThanOrEqual(answer.cost!);
  });
});

describe('the next plan on the same fleet', () => {
  /** The same fleet and tiers, the plan moved a little: two uncapped tiers one core and two units more, a third one core less. */
  const nudged = (problem: AllocationProblem): AllocationProblem => {
    const tiers = Object.keys(problem.plan).filter((tier) => !problem.notScalable.includes(tier) && problem.maxNode[tier] === undefined).slice(0, 3);
    const plan = { ...problem.plan };
    for (const tier of tiers.slice(0, 2)) plan[tier] = { cpu_cores: plan[tier].cpu_cores + 1, mem_units: plan[tier].mem_units + 2 };
    const last = tiers[tiers.length - 1];
    plan[last] = { cpu_cores: Math.max(1, plan[last].cpu_cores - 1), mem_units: plan[last].mem_units };
    return { ...problem, plan };
  };

  it("carries the last answer over: on the same plan, its containers and its cost come back", async () => {
    const problem = generateFleetProblem({ vms: 20, tiers: 10, seed: 4 });
    const instance = buildInstance(problem, minimumNewVms(problem));
    const answer = await createAllocator({ reuseLastPlan: false }).allocate(problem);
    const vmIndex = new Map(instance.vms.map((vm, v) => [vm.name, v]));
    const tierIndex = new Map(instance.tiers.map((tier, t) => [tier.name, t]));
    const layout = instance.vms.map(() => new Map<number, { cpu_cores: number; mem_units: number }>());
    for (const [vm, hosted] of Object.entries(answer.placement)) {
      for (const [tier, r] of Object.entries(hosted)) layout[vmIndex.get(vm)!].set(tierIndex.get(tier)!, r);
    }
    const carried = carriedFluidLayout(instance, layout)!;
    expect(layoutCost(instance, carried)).toBe(answer.cost);
    expect(carried.map((hosted) => [...hosted.keys()].sort())).toEqual(layout.map((hosted) => [...hosted.keys()].sort()));
  });

  it('answers a similar plan in a short budget at least as cheaply as a solve from nothing', async () => {
    let cheaper = 0;
    for (const seed of [1, 2, 3]) {
      const first = generateFleetProblem({ vms: 50, tiers: 25, seed });
      const second = nudged(first);
      const remembering = createAllocator({ solverThreads: 1 });
      await remembering.allocate(first);
      const short = { ...second, timeLimitMs: 10 };
      const carried = await remembering.allocate(short);
      const fresh = await createAllocator({ solverThreads: 1 }).allocate(short);
      expect(verifyPlacement(second, carried)).toEqual([]);
      expect([seed, carried.cost <= fresh.cost]).toEqual([seed, true]);
      if (carried.cost < fresh.cost) cheaper += 1;
    }
    expect(cheaper).toBeGreaterThan(0);
  }, 60_000);

  it('answers the very same problem again at once when it was proven optimal', async () => {
    const problem = generateFleetProblem({ vms: 10, tiers: 10, seed: 2 });
    const allocator = createAllocator({ solverThreads: 1, polishTimeLimitMs: 5000 });
    const first = await allocator.allocate(problem);
    expect(first.optimal).toBe(true);
    const again = await allocator.allocate({ ...problem, timeLimitMs: 1 });
    expect(again).toEqual(first);
  }, 60_000);
});

describe('a process that used the portfolio', () => {
  it('exits once its work is done, without close()', async () => {
    // The built code (npm test builds dist/ first), in a process of its own: helpers are started by
    // the first large solve and must not keep it alive.
    const dist = path.join(__dirname, '../../dist/allocator');
    const problem = JSON.stringify(generateScaleOutProblem({ vms: 20, tiers: 10, seed: 1 }));
    const script = `require(${JSON.stringify(dist)}).createAllocator({ solverThreads: 2, timeLimitMs: 1000 })
      .allocate(${problem}).then((r) => console.log('answered', r.cost));`;
    const outcome = await new Promise<{ code: number | null; stdout: string; killed: boolean }>((resolve) => {
      const child = execFile(process.execPath, ['-e', script], { timeout: 90_000 }, (error, stdout) => {
        resolve({ code: child.exitCode, stdout, killed: error?.killed ?? false });
      });
    });
    expect(outcome.stdout).toMatch(/^answered \d+/);
    expect(outcome.killed).toBe(false);
    expect(outcome.code).toBe(0);
  }, 120_000);
});

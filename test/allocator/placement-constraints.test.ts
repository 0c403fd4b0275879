import { AllocationProblem } from '../../src/allocator/allocator';
import { createAllocator, verifyPlacement } from '../../src/allocator';
import { buildInstance, currentLayout, emptyLayout, isValidLayout, Layout, maximumUsefulNewVms } from '../../src/allocator/model/allocation-instance';
import { currentFluidLayout, improveByContainerSearch, packedFluidLayout } from '../../src/allocator/search/container-search';
import { greedyLayout, packedLayout } from '../../src/allocator/search/greedy-placement';
import { improveByMoves } from '../../src/allocator/search/local-moves';
import { solveInstanceExactly } from '../../src/allocator/exact/exact-solve';
import { NoSolutionError, ValidationError } from '../../src/domain/errors';
import { generateFleetProblem, generateScaleOutProblem, withConstraints } from '../support/allocation-problems';

const r = (cpu_cores: number, mem_units: number) => ({ cpu_cores, mem_units });
const vm = (cpu: number, mem: number, used = {}) => ({ cpu_cores: cpu, mem_units: mem, used });
const allocate = (problem: AllocationProblem) => createAllocator({ timeLimitMs: 5000 }).allocate(problem);

/** Two VMs of 4 × 16; web runs on both, db on a. */
const base: AllocationProblem = {
  vmSize: r(4, 16),
  current: { a: vm(4, 16, { web: r(2, 4), db: r(1, 4) }), b: vm(4, 16, { web: r(1, 2) }) },
  plan: { web: r(3, 6), db: r(1, 4) },
  notScalable: [],
  maxNode: {},
};

describe('placeable: where a tier may run', () => {
  it('moves a tier off the VMs it may no longer use, onto those it may', async () => {
    const problem = { ...base, placeable: { db: { vms: ['b'], newVms: false } } };
    const result = await allocate(problem);
    expect(verifyPlacement(problem, result)).toEqual([]);
    expect(result.placement.a?.db).toBeUndefined();
    expect(result.placement.b.db).toEqual(r(1, 4));
  });

  it('uses a new VM for a tier only when it may run on new VMs', async () => {
    // a is full of web, which may not move; db may not go to b.
    const full: AllocationProblem = {
      vmSize: r(4, 16),
      current: { a: vm(4, 16, { web: r(4, 16) }), b: vm(4, 16, { web: r(1, 1) }) },
      plan: { web: r(4, 16), db: r(2, 2) },
      notScalable: [],
      maxNode: { web: 1 },
    };
    const web = { vms: ['a'], newVms: false };
    await expect(allocate({ ...full, placeable: { web, db: { vms: ['a'], newVms: false } } })).rejects.toBeInstanceOf(NoSolutionError);
    const result = await allocate({ ...full, placeable: { web, db: { vms: ['a'], newVms: true } } });
    expect(result.newVms).toHaveLength(1);
    expect(result.placement[result.newVms[0]]).toEqual({ db: r(2, 2) });
  });

  it('refuses a VM name that is not in the fleet, naming the field', async () => {
    const promise = allocate({ ...base, placeable: { db: { vms: ['zz'], newVms: true } } });
    await expect(promise).rejects.toBeInstanceOf(ValidationError);
    await expect(promise).rejects.toMatchObject({ field: 'placeable.db.vms' });
  });
});

describe('keep: containers that must stay where they are', () => {
  it('keeps a container the cheapest answer would delete, resized', async () => {
    // web shrinks to what one container holds: without keep the small one on b goes.
    const shrink = { ...base, plan: { web: r(2, 4), db: r(1, 4) } };
    const free = await allocate(shrink);
    expect(free.placement.b).toBeUndefined();
    const kept = { ...shrink, keep: { b: ['web'] } };
    const result = await allocate(kept);
    expect(verifyPlacement(kept, result)).toEqual([]);
    expect(result.placement.b.web).toBeDefined();
  });

  it('lets a kept container go when its tier is planned away', async () => {
    const problem = { ...base, plan: { web: r(3, 6) }, keep: { a: ['db'] } };
    const result = await allocate(problem);
    expect(verifyPlacement(problem, result)).toEqual([]);
    expect(result.placement.a?.db).toBeUndefined();
  });

  it('has no solution when a container must stay where its tier may not run', async () => {
    const promise = allocate({ ...base, keep: { a: ['db'] }, placeable: { db: { vms: ['b'], newVms: true } } });
    await expect(promise).rejects.toBeInstanceOf(NoSolutionError);
    await expect(promise).rejects.toThrow(/must be kept on 'a'/);
  });

  it('refuses to keep a container that does not run there, naming the field', async () => {
    await expect(allocate({ ...base, keep: { b: ['db'] } })).rejects.toMatchObject({ field: 'keep.b' });
    await expect(allocate({ ...base, keep: { c: ['db'] } })).rejects.toMatchObject({ field: 'keep.c' });
  });
});

describe('verifyPlacement checks the constraints', () => {
  it('reports a tier where it is not placeable and a kept container that is gone', () => {
    const problem = { ...base, placeable: { web: { vms: ['a'], newVms: false } }, keep: { a: ['db'] } };
    const placement = { a: { web: r(2, 4) }, b: { web: r(1, 2), db: r(1, 4) } };
    const violations = verifyPlacement(problem, { placement, newVms: [], cost: 0, lowerBound: 0, optimal: false });
    expect(violations).toEqual(expect.arrayContaining([
      "'web' on 'b' where it is not placeable",
      "'db' on 'a' must be kept but is gone",
    ]));
  });
});

describe('every stage obeys the constraints', () => {
  const cases = [
    ...[1, 2, 3, 4, 5].map((seed) => ['fleet 20 × 10', seed, withConstraints(generateFleetProblem({ vms: 20, tiers: 10, seed }), seed)] as const),
    ...[1, 2, 3, 4, 5].map((seed) => ['scale-out 30 × 15', seed, withConstraints(generateScaleOutProblem({ vms: 30, tiers: 15, seed }), seed)] as const),
  ];

  it.each(cases)('%s seed %i: every start, move and search keeps its layouts within them', (_family, seed, problem) => {
    const instance = buildInstance(problem, maximumUsefulNewVms(problem));
    const starts = [
      greedyLayout(instance, currentLayout(instance)),
      greedyLayout(instance, emptyLayout(instance)),
      packedLayout(instance),
      currentFluidLayout(instance),
      packedFluidLayout(instance),
    ].filter((l): l is Layout => l !== undefined && isValidLayout(instance, l, { ignoreConstraints: true }));
    expect(starts.length).toBeGreaterThan(0);
    for (const start of starts) expect(isValidLayout(instance, start)).toBe(true);
    const moved = improveByMoves(instance, starts[0], Date.now() + 50);
    expect(isValidLayout(instance, moved)).toBe(true);
    const searched = improveByContainerSearch(instance, moved, { deadlineMs: Date.now() + 50, seed });
    expect(isValidLayout(instance, searched)).toBe(true);
  });

  it.each(cases)('%s seed %i: the allocator answers within them', async (_family, _seed, problem) => {
    const result = await createAllocator({ timeLimitMs: 1000, searchTimeLimitMs: 100 }).allocate(problem).catch((e: unknown) => e);
    // A constrained plan may have no solution; one that has must get a valid answer.
    if (result instanceof NoSolutionError) return;
    expect(result).not.toBeInstanceOf(Error);
    expect(verifyPlacement(problem, result as Awaited<ReturnType<typeof allocate>>)).toEqual([]);
  });

  it('the exact model places and keeps as told', async () => {
    const problem = { ...base, placeable: { web: { vms: ['b'], newVms: true } }, keep: { a: ['db'] } };
    const instance = buildInstance(problem, 1);
    const outcome = await solveInstanceExactly(instance, { timeLimitMs: 5000 });
    expect(outcome.status).toBe('optimal');
    expect(isValidLayout(instance, outcome.layout!)).toBe(true);
  });
});

describe('the solve document', () => {
  it('reads placeable (new_vms true when absent) and keep', async () => {
    const { solveDocument } = await import('../../src/allocator/solve-file');
    const output = await solveDocument({
      infrastructure: { cpu_cores: 4, mem_units: 16 },
      allocation: { a: { used: { web: r(2, 4), db: r(1, 4) } }, b: { used: { web: r(1, 2) } } },
      plan: { web: r(2, 4), db: r(1, 4) },
      placeable: { db: { vms: ['b'] } },
      keep: { b: ['web'] },
    });
    expect(output.allocation.b).toMatchObject({ db: r(1, 4), web: expect.anything() });
    await expect(solveDocument({ infrastructure: { cpu_cores: 4, mem_units: 16 }, plan: {}, placeable: { db: { vms: 'b' } } }))
      .rejects.toMatchObject({ field: 'placeable.db.vms' });
  });
});

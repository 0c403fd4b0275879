import { createAllocator, verifyPlacement } from '../../src/allocator';
import { AllocationProblem } from '../../src/allocator/allocator';
import { solveDocument } from '../../src/allocator/solve-file';
import { buildInstance, minimumNewVms } from '../../src/allocator/model/allocation-instance';
import { lowerBound } from '../../src/allocator/model/lower-bound';
import { NoSolutionError, ValidationError } from '../../src/domain/errors';
import { generateFleetProblem, generateScaleOutProblem } from '../support/allocation-problems';

const r = (cpu_cores: number, mem_units: number) => ({ cpu_cores, mem_units });

function problem(p: Partial<AllocationProblem> & Pick<AllocationProblem, 'plan'>): AllocationProblem {
  return { vmSize: r(2, 8), current: {}, notScalable: [], maxNode: {}, ...p };
}

/** The tight repacking's time in the tests of scale-out 100 × 50 seed 2 (3 s by default), within a budget that holds it. */
const TIGHT_TIME = { timeLimitMs: 15_000, tightTimeLimitMs: 10_000 };

async function allocate(p: AllocationProblem) {
  const result = await createAllocator().allocate(p);
  expect(verifyPlacement(p, result)).toEqual([]);
  return result;
}

const containersOf = (placement: Record<string, Record<string, unknown>>, tier: string) =>
  Object.entries(placement).filter(([, used]) => tier in used).map(([vm]) => vm);

describe('allocation rules (SPEC §3)', () => {
  it('moves a not-scalable tier whole instead of keeping a zero-sized container behind', async () => {
    // db must grow to 2 cores; its VM has 1. The original could keep a 0-core "db" on vm1 to dodge the 100.
    const p = problem({
      current: { vm1: { cpu_cores: 1, mem_units: 8, used: { db: r(1, 2) } } },
      plan: { db: r(2, 2) },
      notScalable: ['db'],
    });
    const result = await allocate(p);
    expect(result.placement).toEqual({ new_vm0: { db: r(2, 2) } });
    expect(result.newVms).toEqual(['new_vm0']);
    expect(result.cost).toBe(100 + 2 + 20 + 4);
    expect(result.optimal).toBe(true);
  });

  it('never splits a not-scalable tier, even when splitting would be cheaper', async () => {
    const p = problem({
      vmSize: r(4, 16),
      current: { vm1: { cpu_cores: 2, mem_units: 8, used: { db: r(1, 4) } }, vm2: { cpu_cores: 2, mem_units: 8, used: { web: r(1, 4) } } },
      plan: { db: r(3, 6), web: r(1, 4) },
      notScalable: ['db'],
    });
    const result = await allocate(p);
    const vms = containersOf(result.placement, 'db');
    expect(vms).toHaveLength(1);
    expect(result.placement[vms[0]].db).toEqual(r(3, 6));
  });

  it('respects max_node, and refuses a plan that needs more containers than it allows', async () => {
    const two = await allocate(problem({ plan: { app: r(4, 4) }, maxNode: { app: 2 } }));
    expect(containersOf(two.placement, 'app')).toHaveLength(2);
    expect(two.cost).toBe(2 * (20 + 4));
    await expect(createAllocator().allocate(problem({ plan: { app: r(6, 6) }, maxNode: { app: 2 } }))).rejects.toThrow(NoSolutionError);
  });

  it('adds new VMs beyond the capacity deficit when fragmentation needs them (K + 1)', async () => {
    // 3 cores and 15 units: the deficit says 2 VMs of 2 cores / 8 units, but no VM holds two 5-unit tiers.
    const plan = { a: r(1, 5), b: r(1, 5), c: r(1, 5) };
    const result = await allocate(problem({ plan }));
    expect(result.newVms).toHaveLength(3);
    expect(result.cost).toBe(3 * (20 + 4));
    expect(result.optimal).toBe(true);
  });

  it('refuses with "No solution found" when max_vms forbids the VMs the plan needs', async () => {
    const plan = { a: r(1, 5), b: r(1, 5), c: r(1, 5) };
    const attempt = createAllocator().allocate(problem({ plan, maxVms: 2 }));
    await expect(attempt).rejects.toThrow(NoSolutionError);
    await expect(attempt).rejects.toThrow('No solution found');
  });

  it('counts VMs in use after the change against max_vms, so emptying a VM makes room for a new one', async () => {
    const result = await allocate(problem({
      current: { vm1: { cpu_cores: 1, mem_units: 1, used: { small: r(1, 1) } } },
      plan: { big: r(2, 8) },
      maxVms: 1,
    }));
    expect(Object.keys(result.placement)).toEqual(['new_vm0']);
  });

  it('names new VMs so that they never collide with an existing VM', async () => {
    const result = await allocate(problem({
      current: { new_vm0: { cpu_cores: 2, mem_units: 8, used: { app: r(2, 8) } } },
      plan: { app: r(2, 8), web: r(1, 1) },
    }));
    expect(result.newVms).toEqual(['new_vm_0']);
    expect(result.placement).toEqual({ new_vm0: { app: r(2, 8) }, new_vm_0: { web: r(1, 1) } });
  });

  it('re-solves a plan equal to what runs when what runs breaks a rule', async () => {
    const p = problem({
      current: { vm1: { cpu_cores: 2, mem_units: 8, used: { db: r(1, 2) } }, vm2: { cpu_cores: 2, mem_units: 8, used: { db: r(1, 2) } } },
      plan: { db: r(2, 4) },
      maxNode: { db: 1 },
    });
    const result = await allocate(p);
    expect(containersOf(result.placement, 'db')).toHaveLength(1);
  });

  it('removes every container for an empty plan, and tiers the plan gives as {0, 0}', async () => {
    const current = { vm1: { cpu_cores: 2, mem_units: 8, used: { a: r(1, 1), b: r(1, 1) } } };
    expect((await allocate(problem({ current, plan: {} }))).placement).toEqual({});
    const result = await createAllocator().allocate(problem({ current, plan: { a: r(1, 1), b: r(0, 0) } }));
    expect(result.placement).toEqual({ vm1: { a: r(1, 1) } });
  });

  it('keeps a large fleet within max_vms', async () => {
    const fleet = generateFleetProblem({ vms: 30, tiers: 12, seed: 3 });
    const p = { ...fleet, maxVms: 25 };
    const result = await allocate(p);
    expect(Object.keys(result.placement).length).toBeLessThanOrEqual(25);
  });

  it('bounds the cost by whole VMs: three tiers of 3 cores need three 4-core VMs, not 2.25', async () => {
    const vm = { cpu_cores: 4, mem_units: 16, used: {} };
    const p = problem({ vmSize: r(4, 16), current: { vm1: vm, vm2: vm, vm3: vm }, plan: { a: r(3, 3), b: r(3, 3), c: r(3, 3) } });
    const result = await allocate(p);
    // Each tier alone on a VM: 3 VMs used (11 each) and 3 containers created (4 each).
    expect(result.cost).toBe(45);
    expect(result.optimal).toBe(true);
    expect(lowerBound(buildInstance(p, 0))).toBe(45);
  });

  it.each([[30, 15, 5, 3], [50, 20, 5, 1]])('gives a %i × %i fleet (seed %i) the %i new VMs of its deficit, no more, where they can hold the plan', async (vms, tiers, seed, k) => {
    const p = generateScaleOutProblem({ vms, tiers, seed });
    expect(minimumNewVms(p)).toBe(k);
    const result = await allocate(p);
    expect(result.newVms.length).toBe(k);
  });

  it('asks for one new VM, not three, when one more VM fills a 100-VM fleet to 99.7 % of its cores', async () => {
    // No heuristic start finds a layout with one new VM here; the search alone ended with three.
    const p = generateScaleOutProblem({ vms: 100, tiers: 50, seed: 2 });
    expect(minimumNewVms(p)).toBe(1);
    // Time enough for the tight repacking on a loaded machine: what is checked is the answer. Its
    // first layout with one new VM comes after 0.7–1.5 s on an idle machine; with 5 s, one CI run
    // still answered with two. HiGHS compiled first: the repacking is skipped while it compiles.
    const allocator = createAllocator(TIGHT_TIME);
    await allocator.warmUp();
    const result = await allocator.allocate(p);
    expect(verifyPlacement(p, result)).toEqual([]);
    expect(result.newVms).toEqual(['new_vm0']);
  });

  it('repacks that fleet on two threads too', async () => {
    const p = generateScaleOutProblem({ vms: 100, tiers: 50, seed: 2 });
    const allocator = createAllocator({ ...TIGHT_TIME, solverThreads: 2 });
    try {
      await allocator.warmUp();
      const result = await allocator.allocate(p);
      expect(verifyPlacement(p, result)).toEqual([]);
      expect(result.newVms).toEqual(['new_vm0']);
    } finally {
      await allocator.close();
    }
  });

  it('returns a valid placement with its bound when the time budget is tiny', async () => {
    const p = { ...generateFleetProblem({ vms: 50, tiers: 25, seed: 2 }), timeLimitMs: 1 };
    const result = await allocate(p);
    expect(result.lowerBound).toBeLessThanOrEqual(result.cost);
  });
});

describe('verifyPlacement', () => {
  const p = problem({ current: { vm1: { cpu_cores: 2, mem_units: 8, used: { db: r(1, 2) } } }, plan: { db: r(2, 2) }, notScalable: ['db'] });
  it.each([
    ['a VM over capacity', { vm1: { db: r(2, 9) } }, [], 'over capacity'],
    ['a zero-sized container', { vm1: { db: r(0, 0) }, new_vm0: { db: r(2, 2) } }, ['new_vm0'], 'less than 1 core'],
    ['a split not-scalable tier', { new_vm0: { db: r(1, 1) }, new_vm1: { db: r(1, 1) } }, ['new_vm0', 'new_vm1'], 'at most 1'],
    ['a tier short of its plan', { new_vm0: { db: r(1, 2) } }, ['new_vm0'], 'the plan says'],
    ['an unknown VM', { elsewhere: { db: r(2, 2) } }, [], 'neither an existing VM'],
  ])('rejects %s', (_, placement, newVms, message) => {
    const violations = verifyPlacement(p, { placement, newVms, cost: 0, lowerBound: 0, optimal: false });
    expect(violations.join('\n')).toContain(message);
  });

  it('rejects a wrong cost', () => {
    const violations = verifyPlacement(p, { placement: { new_vm0: { db: r(2, 2) } }, newVms: ['new_vm0'], cost: 10, lowerBound: 10, optimal: true });
    expect(violations).toEqual(['reported cost 10 but the placement costs 126']);
  });
});

describe('solveDocument', () => {
  const valid = {
    infrastructure: { cpu_cores: 2, mem_units: 8, max_vms: 4 },
    allocation: { vm1: { cpu_cores: 2, mem_units: 8, used: { db: { cpu_cores: 1, mem_units: 2 } } }, vm2: {} },
    plan: { db: { cpu_cores: 1, mem_units: 2 }, web: { cpu_cores: 2, mem_units: 4.0 } },
    not_scalable: ['db'],
    max_node: { web: 2 },
  };

  it('answers in the solve command shape; a VM without a size has the infrastructure size', async () => {
    const out = await solveDocument(valid);
    expect(out).toEqual({
      allocation: { vm1: { db: { cpu_cores: 1, mem_units: 2 } }, vm2: { web: { cpu_cores: 2, mem_units: 4 } } },
      cost: 3 + 4 + 11 + 11,
      lower_bound: 29,
      optimal: true,
    });
  });

  it.each([
    ['plan.web.cpu_cores', { ...valid, plan: { web: { cpu_cores: -1, mem_units: 2 } } }],
    ['plan.web.mem_units', { ...valid, plan: { web: { cpu_cores: 1, mem_units: 1.5 } } }],
    ['plan.web', { ...valid, plan: { web: { cpu_cores: 1, mem_units: 0 } } }],
    ['infrastructure.cpu_cores', { ...valid, infrastructure: { mem_units: 8 } }],
    ['allocation.vm1.used.db.cpu_cores', { ...valid, allocation: { vm1: { used: { db: { cpu_cores: 0, mem_units: 1 } } } } }],
    ['max_node.web', { ...valid, max_node: { web: 0 } }],
    ['not_scalable', { ...valid, not_scalable: 'db' }],
    ['surprise', { ...valid, surprise: true }],
  ])('rejects bad input naming the field %s', async (field, input) => {
    const attempt = solveDocument(input);
    await expect(attempt).rejects.toThrow(ValidationError);
    await expect(attempt).rejects.toMatchObject({ field });
  });
});

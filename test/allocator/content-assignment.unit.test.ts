import { AllocationProblem } from '../../src/allocator/allocator';
import { buildInstance, isValidLayout, Layout, layoutCost } from '../../src/allocator/model/allocation-instance';
import { minimumCostAssignment, reassignContents } from '../../src/allocator/search/content-assignment';
import { seededRandom } from '../../src/allocator/search/seeded-random';

const r = (cpu_cores: number, mem_units: number) => ({ cpu_cores, mem_units });

function permutations(n: number): number[][] {
  if (n === 0) return [[]];
  return permutations(n - 1).flatMap((p) => Array.from({ length: n }, (_, i) => [...p.slice(0, i), n - 1, ...p.slice(i)]));
}

describe('minimumCostAssignment', () => {
  it.each([1, 2, 3, 4, 5, 6, 7, 8])('seed %i: as cheap as the best of every permutation', (seed) => {
    const random = seededRandom(seed);
    const n = 1 + (seed % 6);
    const cost = Array.from({ length: n }, () => Array.from({ length: n }, () => (random() < 0.2 ? 1e9 : Math.floor(random() * 50))));
    const columnOf = minimumCostAssignment(cost);
    expect([...columnOf].sort((a, b) => a - b)).toEqual(Array.from({ length: n }, (_, i) => i));
    const total = (p: number[]) => p.reduce((sum, col, row) => sum + cost[row][col], 0);
    const best = Math.min(...permutations(n).map(total));
    expect(total(columnOf)).toBe(best);
  });
});

describe('reassignContents', () => {
  // Two equal VMs: a ran on vm1, b on vm2. The layout has them the other way round.
  const problem: AllocationProblem = {
    vmSize: r(4, 16),
    current: { vm1: { cpu_cores: 4, mem_units: 16, used: { a: r(2, 8) } }, vm2: { cpu_cores: 4, mem_units: 16, used: { b: r(2, 8) } }, vm3: { cpu_cores: 2, mem_units: 8, used: {} } },
    plan: { a: r(4, 16), b: r(3, 12) },
    notScalable: [],
    maxNode: {},
  };
  const swapped = (): Layout => [new Map([[1, r(3, 12)]]), new Map([[0, r(4, 16)]]), new Map()];

  it('moves VM contents back where their containers ran: kept (3 each) instead of deleted and created (5)', () => {
    const instance = buildInstance(problem, 0);
    const layout = swapped();
    const permuted = reassignContents(instance, layout)!;
    expect(permuted).toBeDefined();
    expect(isValidLayout(instance, permuted)).toBe(true);
    expect(permuted[0]).toEqual(new Map([[0, r(4, 16)]]));
    expect(permuted[1]).toEqual(new Map([[1, r(3, 12)]]));
    expect(layoutCost(instance, layout) - layoutCost(instance, permuted)).toBe(4);
  });

  it('never moves contents to a VM too small for them, nor where a tier is not placeable', () => {
    // b may run only on vm2 and vm3: a (4 cores) cannot go to vm3 (2 cores), b cannot go to vm1.
    const instance = buildInstance({ ...problem, plan: { a: r(4, 16), b: r(2, 8) }, placeable: { b: { vms: ['vm2', 'vm3'], newVms: false } } }, 0);
    expect(isValidLayout(instance, [new Map(), new Map([[0, r(4, 16)]]), new Map([[1, r(2, 8)]])])).toBe(true);
    const layout: Layout = [new Map(), new Map([[0, r(4, 16)]]), new Map([[1, r(2, 8)]])];
    const permuted = reassignContents(instance, layout)!;
    expect(isValidLayout(instance, permuted)).toBe(true);
    // a goes home to vm1, b home to vm2: the only cheaper permutation allowed.
    expect(permuted).toEqual([new Map([[0, r(4, 16)]]), new Map([[1, r(2, 8)]]), new Map()]);
  });

  it('leaves a kept container where it is', () => {
    const instance = buildInstance({ ...problem, current: { ...problem.current, vm2: { cpu_cores: 4, mem_units: 16, used: { a: r(1, 1), b: r(2, 8) } } }, keep: { vm2: ['a'] } }, 0);
    const layout: Layout = [new Map([[1, r(3, 12)]]), new Map([[0, r(4, 16)]]), new Map()];
    // vm2's contents hold the kept a: they stay; vm1's b cannot go anywhere cheaper.
    expect(reassignContents(instance, layout)).toBeUndefined();
  });

  it('answers nothing when no permutation is cheaper', () => {
    const instance = buildInstance(problem, 0);
    expect(reassignContents(instance, [new Map([[0, r(4, 16)]]), new Map([[1, r(3, 12)]]), new Map()])).toBeUndefined();
  });
});

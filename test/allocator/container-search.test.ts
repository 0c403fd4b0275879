import { AllocationProblem } from '../../src/allocator/allocator';
import { buildInstance, currentLayout, emptyLayout, isValidLayout, Layout, layoutCost, maximumUsefulNewVms } from '../../src/allocator/model/allocation-instance';
import { currentFluidLayout, improveByContainerSearch } from '../../src/allocator/search/container-search';
import { greedyLayout } from '../../src/allocator/search/greedy-placement';
import { lowerBound } from '../../src/allocator/model/lower-bound';
import { generateFleetProblem } from '../support/allocation-problems';

const r = (cpu_cores: number, mem_units: number) => ({ cpu_cores, mem_units });
const usedVms = (layout: Layout) => layout.filter((hosted) => hosted.size > 0).length;

describe('container search', () => {
  it('empties a VM whose containers fit nowhere whole, creating no container', () => {
    // Emptying c moves x's core onto a, which is full in cores: y must shrink on a and grow on b.
    // No whole-container move does it; the search must resize three tiers at once.
    const size = r(4, 16);
    const problem: AllocationProblem = {
      vmSize: size,
      current: {
        a: { ...size, used: { x: r(2, 4), y: r(2, 4) } },
        b: { ...size, used: { y: r(1, 4), z: r(1, 4) } },
        c: { ...size, used: { x: r(1, 4), z: r(1, 4) } },
      },
      plan: { x: r(3, 8), y: r(3, 8), z: r(2, 8) },
      notScalable: [],
      maxNode: {},
    };
    const instance = buildInstance(problem, 0);
    const start = currentLayout(instance);
    expect(isValidLayout(instance, start)).toBe(true);
    const found = improveByContainerSearch(instance, start, { deadlineMs: Date.now() + 200, seed: 1 });
    expect(isValidLayout(instance, found)).toBe(true);
    expect(usedVms(found)).toBe(2);
    // 2 VMs in use (11 each), c idle (2), four containers kept (3 each), two deleted (1 each).
    expect(layoutCost(instance, found)).toBe(38);
  });

  it('returns a valid layout no worse than its start on seeded fleets, never below the lower bound', () => {
    for (const [vms, tiers, seed] of [[10, 10, 1], [20, 10, 2], [50, 25, 3]]) {
      const problem = generateFleetProblem({ vms, tiers, seed });
      const instance = buildInstance(problem, maximumUsefulNewVms(problem));
      const start = greedyLayout(instance, currentLayout(instance)) ?? greedyLayout(instance, emptyLayout(instance));
      expect(start && isValidLayout(instance, start)).toBe(true);
      const found = improveByContainerSearch(instance, start!, { deadlineMs: Date.now() + 100, seed: 1 });
      expect(isValidLayout(instance, found)).toBe(true);
      expect(layoutCost(instance, found)).toBeLessThanOrEqual(layoutCost(instance, start!));
      expect(layoutCost(instance, found)).toBeGreaterThanOrEqual(lowerBound(instance));
    }
  });

  it('grows a tier on a full VM by shifting another tier\'s load along a path, creating no container', () => {
    // x must grow by a core, only runs on a, and a is full in cores. Only shrinking y on a and
    // growing y on b (which has room) makes that core: tier x -> VM a -> tier y -> VM b.
    const size = r(4, 16);
    const problem: AllocationProblem = {
      vmSize: size,
      current: {
        a: { ...size, used: { x: r(2, 4), y: r(2, 4) } },
        b: { ...size, used: { y: r(1, 4) } },
      },
      plan: { x: r(3, 8), y: r(3, 8) },
      notScalable: ['x'],
      maxNode: {},
    };
    const instance = buildInstance(problem, maximumUsefulNewVms(problem));
    const layout = currentFluidLayout(instance);
    expect(layout && isValidLayout(instance, layout)).toBe(true);
    const [a, b] = ['a', 'b'].map((name) => instance.vms.findIndex((vm) => vm.name === name));
    const [x, y] = ['x', 'y'].map((name) => instance.tiers.findIndex((t) => t.name === name));
    expect(layout![a].get(x)!.cpu_cores).toBe(3);
    expect(layout![a].get(y)!.cpu_cores).toBe(1);
    expect(layout![b].get(y)!.cpu_cores).toBe(2);
    expect(layout!.reduce((n, hosted) => n + hosted.size, 0)).toBe(3);
  });

  it('carries the current allocation over, resized, keeping every container that still fits', () => {
    const size = r(4, 16);
    const problem: AllocationProblem = {
      vmSize: size,
      current: {
        a: { ...size, used: { web: r(1, 2), db: r(2, 8) } },
        b: { ...size, used: { web: r(1, 2) } },
      },
      // web triples in cores: exactly what a's leftover and b hold, so no container moves and none is added.
      plan: { web: r(6, 6), db: r(2, 8) },
      notScalable: ['db'],
      maxNode: {},
    };
    const instance = buildInstance(problem, maximumUsefulNewVms(problem));
    const layout = currentFluidLayout(instance);
    expect(layout && isValidLayout(instance, layout)).toBe(true);
    const a = instance.vms.findIndex((vm) => vm.name === 'a');
    const b = instance.vms.findIndex((vm) => vm.name === 'b');
    const web = instance.tiers.findIndex((t) => t.name === 'web');
    const db = instance.tiers.findIndex((t) => t.name === 'db');
    expect(layout![a].get(db)).toEqual(r(2, 8));
    expect(layout![a].has(web) && layout![b].has(web)).toBe(true);
    expect(usedVms(layout!)).toBe(2);
  });
});

describe('relocating a VM', () => {
  it('gives up a new VM for an idle existing one that takes its containers whole', () => {
    const problem: AllocationProblem = {
      vmSize: { cpu_cores: 4, mem_units: 16 },
      current: { a: { cpu_cores: 4, mem_units: 16, used: { x: { cpu_cores: 4, mem_units: 16 } } }, e: { cpu_cores: 4, mem_units: 16, used: {} } },
      plan: { x: { cpu_cores: 4, mem_units: 16 }, y: { cpu_cores: 2, mem_units: 4 } },
      notScalable: ['x'],
      maxNode: {},
    };
    const instance = buildInstance(problem, 1);
    const onNewVm: Layout = [new Map([[0, { cpu_cores: 4, mem_units: 16 }]]), new Map(), new Map([[1, { cpu_cores: 2, mem_units: 4 }]])];
    expect(isValidLayout(instance, onNewVm)).toBe(true);
    const searched = improveByContainerSearch(instance, onNewVm, { deadlineMs: Date.now() + 200, seed: 1 });
    expect(searched[1].get(1)).toEqual({ cpu_cores: 2, mem_units: 4 });
    expect(searched[2].size).toBe(0);
    expect(layoutCost(instance, searched)).toBe(11 + 3 + 11 + 4);
  });
});

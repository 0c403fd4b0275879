import * as path from 'path';
import type { createThreadedAllocator as Create } from '../../src/allocator/worker/threaded-allocator';

/**
 * The allocator as the daemon runs it: in a worker thread of the built code (npm test builds dist/
 * first), so a solve never stalls the main thread, with a hard deadline past its own time limit.
 */
const { createThreadedAllocator } = require(path.join(__dirname, '../../dist/allocator/worker/threaded-allocator')) as { createThreadedAllocator: typeof Create };
const errors = require(path.join(__dirname, '../../dist/domain/errors'));

describe('threaded allocator', () => {
  const allocator = createThreadedAllocator({ timeLimitMs: 2000, graceMs: 1000 });
  afterAll(() => allocator.close());

  it('answers a plan that comes while the worker is still compiling the solver, within its budget', async () => {
    const cold = createThreadedAllocator({ timeLimitMs: 500, graceMs: 5000 });
    try {
      const warming = cold.warmUp();
      const started = Date.now();
      const result = await cold.allocate({
        vmSize: { cpu_cores: 2, mem_units: 8 },
        current: { vm1: { cpu_cores: 2, mem_units: 8, used: { db: { cpu_cores: 1, mem_units: 8 } } } },
        plan: { jboss: { cpu_cores: 2, mem_units: 10 }, db: { cpu_cores: 1, mem_units: 2 } },
        notScalable: [], maxNode: {},
      });
      // Compiling takes seconds of CPU; the answer may not wait for it (the slack is for a shared machine).
      expect(Date.now() - started).toBeLessThan(1500);
      expect(Object.keys(result.placement).length).toBeGreaterThan(0);
      await warming;
    } finally {
      await cold.close();
    }
  });

  describe('once warmed up, as the daemon does at start', () => {
    beforeAll(() => allocator.warmUp());

    it('solves in the worker and returns a proven optimum', async () => {
      const result = await allocator.allocate({
        vmSize: { cpu_cores: 2, mem_units: 8 },
        current: { vm1: { cpu_cores: 2, mem_units: 8, used: { db: { cpu_cores: 1, mem_units: 8 } } }, vm2: { cpu_cores: 2, mem_units: 8, used: { jboss: { cpu_cores: 1, mem_units: 5 } } } },
        plan: { jboss: { cpu_cores: 2, mem_units: 10 }, db: { cpu_cores: 1, mem_units: 2 } },
        notScalable: [], maxNode: {},
      });
      expect(result).toMatchObject({ cost: 32, optimal: true });
    });

    it('rethrows "No solution found" as the domain error it is', async () => {
      const promise = allocator.allocate({
        vmSize: { cpu_cores: 2, mem_units: 8 },
        current: { vm1: { cpu_cores: 2, mem_units: 2, used: {} }, vm2: { cpu_cores: 2, mem_units: 2, used: {} } },
        plan: { jboss: { cpu_cores: 3, mem_units: 1 }, db: { cpu_cores: 1, mem_units: 3 } },
        notScalable: [], maxNode: {},
      });
      await expect(promise).rejects.toBeInstanceOf(errors.NoSolutionError);
      await expect(promise).rejects.toThrow(/No solution found/);
    });

    it('keeps the main thread free while it solves', async () => {
      let ticks = 0;
      const timer = setInterval(() => { ticks++; }, 10);
      const tiers = Object.fromEntries(Array.from({ length: 40 }, (_, i) => [`t${i}`, { cpu_cores: 3 + (i % 5), mem_units: 5 + (i % 7) }]));
      const current = Object.fromEntries(Array.from({ length: 80 }, (_, i) => [`vm${i}`, { cpu_cores: 4, mem_units: 16, used: {} }]));
      const result = await allocator.allocate({ vmSize: { cpu_cores: 4, mem_units: 16 }, current, plan: tiers, notScalable: [], maxNode: {} });
      clearInterval(timer);
      expect(Object.keys(result.placement).length).toBeGreaterThan(0);
      expect(ticks).toBeGreaterThan(0);
    });
  });
});

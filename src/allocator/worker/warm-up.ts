import { AllocationProblem } from '../allocator';
import { loadSolver } from '../exact/highs-engine';
import { createAllocator } from '../hybrid-allocator';

/**
 * Loads and compiles the solver (in the background: the calling thread stays free) and solves one
 * small problem, so that the first real plan pays neither for compiling HiGHS nor for the first
 * run of the allocator's own code. The daemon's worker runs it at start (`warmUp()` of the
 * threaded allocator); plans that come before it is done are still solved within their budgets.
 */
export async function warmUpAllocator(): Promise<void> {
  await loadSolver();
  const size = { cpu_cores: 4, mem_units: 16 };
  const r = (cpu_cores: number, mem_units: number) => ({ cpu_cores, mem_units });
  const small: AllocationProblem = {
    vmSize: size,
    current: {
      a: { ...size, used: { web: r(2, 4), db: r(1, 8) } },
      b: { ...size, used: { web: r(1, 2), cache: r(2, 2) } },
      c: { ...size, used: { app: r(3, 6) } },
      d: { ...size, used: {} },
    },
    plan: { web: r(4, 7), db: r(2, 10), cache: r(1, 4), app: r(4, 9) },
    notScalable: ['db'],
    maxNode: { cache: 2 },
  };
  await createAllocator({ timeLimitMs: 5000 }).allocate(small).catch(() => undefined);
}

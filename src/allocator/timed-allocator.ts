import { Allocator } from './allocator';

/** The allocator with the wall time of every solve told to `observe` (in seconds), failed solves included. */
export function timedAllocator(allocator: Allocator, observe: (seconds: number) => void): Allocator {
  return {
    allocate: async (problem) => {
      const started = process.hrtime.bigint();
      try {
        return await allocator.allocate(problem);
      } finally {
        observe(Number(process.hrtime.bigint() - started) / 1e9);
      }
    },
  };
}

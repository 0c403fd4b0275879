// The allocator's public face: what the rest of the executor, the CLI and the benchmarks use.
export type { AllocationProblem, AllocationResult, Allocator } from './allocator';
export { createAllocator } from './hybrid-allocator';
export type { AllocatorOptions, PortfolioAllocator } from './hybrid-allocator';
export { createThreadedAllocator } from './worker/threaded-allocator';
export { timedAllocator } from './timed-allocator';
export type { ThreadedAllocatorOptions } from './worker/threaded-allocator';
export { warmUpAllocator } from './worker/warm-up';
export { minimumNewVms } from './model/allocation-instance';
export { verifyPlacement } from './model/verify-placement';
export { placementCost } from './model/placement-cost';
export { solveDocument } from './solve-file';
export type { SolveOutput } from './solve-file';

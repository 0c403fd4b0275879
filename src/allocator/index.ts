export type { AllocationProblem, AllocationResult, Allocator } from './allocator';
export { createAllocator, warmUpAllocator } from './hybrid-allocator';
export type { AllocatorOptions } from './hybrid-allocator';
export { verifyPlacement } from './verify-placement';
export { placementCost } from './placement-cost';
export { solveDocument } from './solve-file';
export type { SolveOutput } from './solve-file';

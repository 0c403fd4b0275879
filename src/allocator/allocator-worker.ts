import { parentPort, workerData } from 'worker_threads';
import { DomainError } from '../domain/errors';
import { AllocationProblem } from './allocator';
import { AllocatorOptions, createAllocator } from './hybrid-allocator';

/**
 * Runs the allocator off the daemon's main thread: HiGHS solves synchronously, and a solve of a
 * large fleet must not stall the HTTP API or running executions. Messages: `{id, problem}` in,
 * `{id, result}` or `{id, error: {kind, message, field?}}` out.
 */
if (parentPort) {
  const port = parentPort;
  const allocator = createAllocator(workerData as AllocatorOptions);
  port.on('message', async ({ id, problem }: { id: number; problem: AllocationProblem }) => {
    try {
      port.postMessage({ id, result: await allocator.allocate(problem) });
    } catch (e) {
      const error = e instanceof DomainError
        ? { kind: e.constructor.name, message: e.message, field: (e as { field?: string }).field }
        : { kind: 'Error', message: e instanceof Error ? e.message : String(e) };
      port.postMessage({ id, error });
    }
  });
}

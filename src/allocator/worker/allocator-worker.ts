import { parentPort, workerData } from 'worker_threads';
import { DomainError } from '../../domain/errors';
import { AllocationProblem } from '../allocator';
import { AllocatorOptions } from '../allocator-options';
import { createAllocator } from '../hybrid-allocator';
import { warmUpAllocator } from './warm-up';

/**
 * Runs the allocator off the daemon's main thread: HiGHS solves synchronously, and a solve of a
 * large fleet must not stall the HTTP API or running executions. Messages: `{id, problem}` in,
 * `{id, result}` or `{id, error: {kind, message, field?}}` out; `{id, warmUp: true}` in, `{id, ready: true}`
 * out once the solver is compiled (meanwhile problems are still answered, within their budgets).
 */
if (parentPort) {
  const port = parentPort;
  const allocator = createAllocator(workerData as AllocatorOptions);
  port.on('message', async ({ id, problem, warmUp }: { id: number; problem?: AllocationProblem; warmUp?: boolean }) => {
    try {
      if (warmUp) {
        // HiGHS here and in the portfolio's helper threads, each compiling its own, side by side; then
        // one small problem, so the allocator's own code is compiled too.
        await Promise.all([warmUpAllocator(), allocator.warmUp()]);
        port.postMessage({ id, ready: true });
        return;
      }
      port.postMessage({ id, result: await allocator.allocate(problem!) });
    } catch (e) {
      const error = e instanceof DomainError
        ? { kind: e.constructor.name, message: e.message, field: (e as { field?: string }).field }
        : { kind: 'Error', message: e instanceof Error ? e.message : String(e) };
      port.postMessage({ id, error });
    }
  });
}

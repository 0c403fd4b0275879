import { existsSync } from 'fs';
import * as path from 'path';
import { Worker } from 'worker_threads';
import { NoSolutionError, UnsatisfiableError, ValidationError } from '../../domain/errors';
import { AllocationProblem, AllocationResult, Allocator } from '../allocator';
import { AllocatorOptions } from '../allocator-options';
import { createAllocator } from '../hybrid-allocator';

export interface ThreadedAllocatorOptions extends AllocatorOptions {
  /**
   * Past the solver's own time limit, how long to wait before the worker is terminated and the
   * plan refused: the guarantee that an execution never hangs on the solver.
   */
  graceMs?: number;
}

type Pending = { resolve: (r: AllocationResult | undefined) => void; reject: (e: Error) => void; timer?: NodeJS.Timeout };

/**
 * The allocator in a worker thread, with a hard deadline. Where the compiled worker is not available
 * (running from TypeScript sources, as the unit tests do), it solves in-process instead.
 */
export function createThreadedAllocator(options: ThreadedAllocatorOptions = {}): Allocator & { warmUp(): Promise<void>; close(): Promise<void> } {
  const workerFile = path.join(__dirname, 'allocator-worker.js');
  const { graceMs = 5_000, ...allocatorOptions } = options;
  if (!existsSync(workerFile)) {
    const inProcess = createAllocator(allocatorOptions);
    // In-process (tests from sources) nothing is compiled ahead: a solve with a budget of 3 s or more
    // compiles HiGHS itself, a shorter one answers by the search.
    return { allocate: (p) => inProcess.allocate(p), warmUp: async () => undefined, close: () => inProcess.close() };
  }

  let worker: Worker | undefined;
  let nextId = 0;
  const pending = new Map<number, Pending>();
  const failAll = (error: Error) => {
    for (const [id, p] of pending) { clearTimeout(p.timer); p.reject(error); pending.delete(id); }
  };
  const start = (): Worker => {
    const w = new Worker(workerFile, { workerData: allocatorOptions });
    w.unref();
    w.on('message', ({ id, result, ready, error }: { id: number; result?: AllocationResult; ready?: boolean; error?: { kind: string; message: string; field?: string } }) => {
      const p = pending.get(id);
      if (!p) return;
      pending.delete(id);
      clearTimeout(p.timer);
      if (result || ready) p.resolve(result);
      else p.reject(rebuildError(error!));
    });
    w.on('error', (e) => { worker = undefined; failAll(new Error(`allocator worker failed: ${e.message}`)); });
    w.on('exit', () => { if (worker === w) worker = undefined; });
    return w;
  };

  const request = <T>(message: object, budgetMs?: number): Promise<T> => {
    worker ??= start();
    const w = worker;
    const id = nextId++;
    return new Promise<T>((resolve, reject) => {
      // Without a budget (the warm-up), no deadline: a slow compile must not stop the worker.
      const timer = budgetMs === undefined ? undefined : setTimeout(() => {
        // The solver overran its own budget by the whole grace period: stop it, whatever it was doing.
        pending.delete(id);
        if (worker === w) worker = undefined;
        void w.terminate();
        failAll(new UnsatisfiableError('the allocator was stopped: no allocation within its time budget'));
        reject(new UnsatisfiableError(`no allocation found within ${budgetMs} ms; the allocator was stopped`));
      }, budgetMs);
      pending.set(id, { resolve: resolve as (r: AllocationResult | undefined) => void, reject, timer });
      w.postMessage({ id, ...message });
    });
  };

  return {
    allocate(problem: AllocationProblem): Promise<AllocationResult> {
      return request<AllocationResult>({ problem }, (problem.timeLimitMs ?? allocatorOptions.timeLimitMs ?? 10_000) + graceMs);
    },
    /**
     * Starts the worker and has it compile the solver in the background (seconds of CPU, once):
     * plans that arrive meanwhile are answered within their budgets by the search, and every plan
     * after it gets the exact solver at full speed. Resolves when the solver is ready.
     */
    async warmUp() {
      await request<undefined>({ warmUp: true }).catch(() => undefined);
    },
    async close() {
      failAll(new Error('allocator closed'));
      const w = worker;
      worker = undefined;
      await w?.terminate();
    },
  };
}

function rebuildError(error: { kind: string; message: string; field?: string }): Error {
  switch (error.kind) {
    case 'NoSolutionError': {
      const e = new NoSolutionError();
      e.message = error.message;
      return e;
    }
    case 'ValidationError': {
      const e = new ValidationError(error.field ?? '', '');
      e.message = error.message;
      return e;
    }
    case 'UnsatisfiableError':
      return new UnsatisfiableError(error.message);
    default:
      return new Error(error.message);
  }
}

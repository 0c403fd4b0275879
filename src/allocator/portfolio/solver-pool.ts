import { existsSync } from 'fs';
import * as path from 'path';
import { Worker } from 'worker_threads';
import { HelperAnswer, HelperTask } from './helper-tasks';

/**
 * The helper threads of the portfolio: the thread that allocates is the first solver, these are
 * the others (`solverThreads - 1`). The first compiles HiGHS once when it starts; each runs one
 * stage (helper-tasks.ts) at a time. They are started on the first large solve or by `warmUp()`, and do
 * not keep a process alive.
 */
export interface SolverPool {
  readonly size: number;
  /**
   * Runs `task` on helper `index`. Resolves with its answer, or undefined when it has none by
   * `task.deadlineMs` plus a few ms (HiGHS ends a little past its limit), or the helper failed: a
   * late answer is dropped, the caller never waits for it.
   */
  run(index: number, task: HelperTask): Promise<HelperAnswer | undefined>;
  /** Starts every helper; resolves when each has compiled HiGHS. */
  warmUp(): Promise<void>;
  close(): Promise<void>;
}

/** How long past a stage's deadline its answer is still awaited. */
export const LATE_ANSWER_MS = 15;

interface Helper {
  worker: Worker;
  ready: Promise<void>;
  pending: Map<number, (answer: HelperAnswer | undefined) => void>;
}

export function createSolverPool(size: number): SolverPool {
  const helpers: Array<Helper | undefined> = Array.from({ length: size }, () => undefined);
  let nextId = 0;
  const start = (index: number): Helper => {
    const existing = helpers[index];
    if (existing) return existing;
    // Only the first helper runs HiGHS (helper-tasks.ts: the others search), so only it compiles it.
    const worker = spawnHelper({ compileSolver: index === 0 });
    const pending = new Map<number, (answer: HelperAnswer | undefined) => void>();
    let markReady: () => void = () => undefined;
    const ready = new Promise<void>((resolve) => { markReady = resolve; });
    const helper: Helper = { worker, ready, pending };
    const drop = () => {
      if (helpers[index] === helper) helpers[index] = undefined;
      markReady();
      for (const settle of pending.values()) settle(undefined);
      pending.clear();
    };
    worker.on('message', (message: { id?: number; answer?: HelperAnswer; error?: string; ready?: boolean }) => {
      if (message.ready) return markReady();
      const settle = pending.get(message.id!);
      pending.delete(message.id!);
      settle?.(message.answer);
    });
    worker.on('error', drop);
    worker.on('exit', drop);
    // After the listeners: a helper does not keep the process alive.
    worker.unref();
    helpers[index] = helper;
    return helper;
  };
  return {
    size,
    run(index, task) {
      const helper = start(index);
      const id = nextId++;
      return new Promise((resolve) => {
        const timer = setTimeout(() => {
          helper.pending.delete(id);
          resolve(undefined);
        }, Math.max(0, task.deadlineMs - Date.now()) + LATE_ANSWER_MS);
        helper.pending.set(id, (answer) => {
          clearTimeout(timer);
          resolve(answer);
        });
        helper.worker.postMessage({ id, task });
      });
    },
    async warmUp() {
      // Held while they compile: otherwise a process awaiting only this would end without an answer.
      const started = helpers.map((_, index) => start(index));
      for (const helper of started) helper.worker.ref();
      await Promise.all(started.map((helper) => helper.ready));
      for (const helper of started) helper.worker.unref();
    },
    async close() {
      const running = helpers.filter((h): h is Helper => h !== undefined);
      helpers.fill(undefined);
      await Promise.all(running.map((h) => h.worker.terminate()));
    },
  };
}

/**
 * The compiled helper next to this file; from TypeScript sources (the tests), the same file
 * compiled on the fly with the TypeScript compiler, file by file as they are required.
 */
function spawnHelper(workerData: object): Worker {
  const compiled = path.join(__dirname, 'helper-worker.js');
  if (existsSync(compiled)) return new Worker(compiled, { workerData });
  const source = path.join(__dirname, 'helper-worker.ts');
  const bootstrap = `
    const fs = require('fs');
    const ts = require(require.resolve('typescript', { paths: [${JSON.stringify(__dirname)}] }));
    require.extensions['.ts'] = (module, filename) => {
      const output = ts.transpileModule(fs.readFileSync(filename, 'utf8'), {
        fileName: filename,
        compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022, esModuleInterop: true },
      });
      module._compile(output.outputText, filename);
    };
    require(${JSON.stringify(source)});
  `;
  return new Worker(bootstrap, { eval: true, workerData });
}

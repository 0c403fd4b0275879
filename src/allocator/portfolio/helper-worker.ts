import { parentPort, workerData } from 'worker_threads';
import { loadSolver } from '../exact/highs-engine';
import { HelperTask, runHelperTask } from './helper-tasks';

/**
 * A helper thread of the portfolio (solver-pool.ts): the first compiles HiGHS at once (the others
 * only search), then each runs the stages it is sent, one at a time. Messages: `{id, task}` in, `{id, answer}` or `{id, error}` out.
 */
if (parentPort) {
  const port = parentPort;
  const ready = () => port.postMessage({ ready: true });
  if ((workerData as { compileSolver?: boolean } | undefined)?.compileSolver) loadSolver().then(ready, ready);
  else ready();
  let queue: Promise<void> = Promise.resolve();
  port.on('message', ({ id, task }: { id: number; task: HelperTask }) => {
    queue = queue.then(async () => {
      try {
        port.postMessage({ id, answer: await runHelperTask(task) });
      } catch (e) {
        port.postMessage({ id, error: e instanceof Error ? e.message : String(e) });
      }
    });
  });
}

import { HeldByJobsError } from '../../domain/errors';
import { JobView } from './job-holdings';

/** How often a waiting plan looks again when the jobs do not say when they change (and, when they do, in case a word is missed). */
export const YIELD_POLL_MS = 1000;
const YIELD_POLL_TOLD_MS = 5000;

/**
 * Decides (`attempt`) until it is not refused for running jobs' cores: each refusal waits for a
 * change of the jobs (or a second) and decides again, over the state then, for at most `yieldMs`
 * in all; after that the last refusal is thrown, saying how long it waited. `onWait` is told of the
 * first refusal that will be waited out. Any other error ends it at once, as does `signal`.
 */
export async function yieldingToJobs<T>(
  jobs: JobView, yieldMs: number, signal: AbortSignal, attempt: () => Promise<T>, onWait?: (refusal: HeldByJobsError) => void,
): Promise<T> {
  const deadline = Date.now() + yieldMs;
  let waited = false;
  for (;;) {
    try {
      return await attempt();
    } catch (e) {
      if (!(e instanceof HeldByJobsError)) throw e;
      const left = deadline - Date.now();
      if (left <= 0 || signal.aborted) {
        throw yieldMs > 0 ? new HeldByJobsError(`${e.message} (waited ${yieldMs / 1000} s, job_yield_s, for them to end)`) : e;
      }
      if (!waited) onWait?.(e);
      waited = true;
      await changeOrTimeout(jobs, Math.min(left, jobs.onChange ? YIELD_POLL_TOLD_MS : YIELD_POLL_MS), signal);
    }
  }
}

function changeOrTimeout(jobs: JobView, ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    let stop: (() => void) | undefined;
    const done = () => {
      clearTimeout(timer);
      stop?.();
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    stop = jobs.onChange?.(done);
    signal.addEventListener('abort', done);
  });
}

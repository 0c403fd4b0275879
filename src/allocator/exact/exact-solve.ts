import { AllocationInstance, isValidLayout, Layout } from '../model/allocation-instance';
import { buildAllocationMip } from './allocation-mip';
import { MipSolveOptions, MipStatus, solveMip } from './highs-engine';

export interface ExactOutcome {
  status: MipStatus;
  /** A valid layout when the solver found one (always when `optimal`). */
  layout?: Layout;
  /** Proven lower bound on the cost. */
  bound: number;
}

/**
 * Branch and bound on the instance's model. The solver's sizes are rounded; when the rounded sizes
 * do not add up (sizes are continuous in the model, see buildAllocationMip), the containers found
 * are kept and integral sizes are recovered from the same model with those containers fixed.
 */
export async function solveInstanceExactly(
  instance: AllocationInstance,
  options: { timeLimitMs: number; start?: Layout; candidate?: (v: number, t: number) => boolean } & Pick<MipSolveOptions, 'seed' | 'restart'>,
): Promise<ExactOutcome> {
  // The limit covers building the model too: on a large fleet under load that is tens of ms.
  const deadlineMs = Date.now() + options.timeLimitMs;
  const mip = buildAllocationMip(instance, { candidate: options.candidate });
  const outcome = await solveMip(mip.model, {
    timeLimitMs: deadlineMs - Date.now(),
    start: options.start && isValidLayout(instance, options.start) ? mip.encode(options.start) : undefined,
    seed: options.seed,
    restart: options.restart,
  });
  if (!outcome.values) return { status: outcome.status, bound: outcome.bound };
  let layout = mip.decode(outcome.values);
  if (!isValidLayout(instance, layout)) {
    const fixed = buildAllocationMip(instance, { integerSizes: true, fixedLayout: layout });
    // Within what is left of the same limit: the recovery is a small LP, but the budget is the caller's.
    const sizes = await solveMip(fixed.model, { timeLimitMs: deadlineMs - Date.now() });
    const repaired = sizes.values ? fixed.decode(sizes.values) : undefined;
    if (!repaired || !isValidLayout(instance, repaired)) {
      return { status: outcome.status === 'optimal' ? 'unknown' : outcome.status, bound: outcome.bound };
    }
    layout = repaired;
  }
  return { status: outcome.status, layout, bound: outcome.bound };
}

export interface RelaxedOutcome {
  /** Proven lower bound on the cost: the relaxation's optimum, rounded up (costs are whole numbers). */
  bound: number;
  /** The (VM, tier) pairs, as v·T + t, where the relaxation opens some of a container. */
  support: Set<number>;
}

/**
 * The LP relaxation of the instance's model (every variable continuous), within `timeLimitMs`, or
 * undefined when it is not solved in time. Tens of ms up to a few hundred pairs: where its optimum
 * opens containers is where branch and bound looks first, which makes its support a good place to
 * search for what a heuristic missed.
 */
export async function solveRelaxation(instance: AllocationInstance, options: { timeLimitMs: number }): Promise<RelaxedOutcome | undefined> {
  const deadlineMs = Date.now() + options.timeLimitMs;
  const mip = buildAllocationMip(instance, { relaxed: true });
  const outcome = await solveMip(mip.model, { timeLimitMs: deadlineMs - Date.now() });
  if (outcome.status !== 'optimal' || !outcome.values || outcome.objective === undefined) return undefined;
  return { bound: Math.ceil(outcome.objective - 1e-6), support: mip.support(outcome.values) };
}

import type { Highs } from 'highs';
import * as v8 from 'v8';
import { MipModel } from './mip-model';

export type MipStatus = 'optimal' | 'infeasible' | 'feasible' | 'unknown';

/**
 * `feasible`: the time ran out with an incumbent; `unknown`: it ran out without one.
 * `bound` is the proven lower bound on the objective (offset included).
 */
export interface MipOutcome {
  status: MipStatus;
  values?: Float64Array;
  objective?: number;
  bound: number;
}

export interface MipSolveOptions {
  timeLimitMs: number;
  /** A feasible (or nearly feasible) assignment of every column, used as the first incumbent. */
  start?: ArrayLike<number>;
  /**
   * HiGHS' random seed (its default when absent). Branch and bound on a model it cannot settle in
   * the time ends at another incumbent with another seed: two threads on one model use two.
   */
  seed?: number;
  /**
   * false: no restart of branch and bound after the root's reduced-cost fixing (HiGHS restarts by
   * default when that fixes enough columns).
   */
  restart?: boolean;
}

// The WASM runtime is loaded once per process and its memory stays reserved. After a native error
// the runtime may be left inconsistent, so it is dropped and the next solve loads a fresh one.
let runtime: Promise<Highs> | undefined;
let loaded: Highs | undefined;

/**
 * Starts loading HiGHS if it is not loaded or loading, and resolves when it is ready. Compilation
 * runs on V8's background threads, so the caller's thread stays free meanwhile: a search can run
 * while the solver compiles, and a worker keeps answering messages.
 *
 * V8 would first run WebAssembly through its baseline compiler, function by function on first call,
 * and optimise hot functions much later: for HiGHS that is ~80 ms of CPU per tiny MIP for the first
 * dozens of solves (against 12 ms optimised), and the first solves compile on the solving thread,
 * where no time limit can interrupt them. So the module is compiled optimised and whole up front
 * (about 3 s of CPU once per process, in the background), and every solve after it is fast. Only
 * WebAssembly compiled from then on is affected; no other part of the executor uses WebAssembly.
 */
export function loadSolver(): Promise<Highs> {
  if (!runtime) {
    v8.setFlagsFromString('--no-liftoff');
    v8.setFlagsFromString('--no-wasm-lazy-compilation');
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const load = require('highs') as (settings?: object) => Promise<Highs>;
    const loading = load();
    runtime = loading;
    loading.then((highs) => {
      if (runtime === loading) loaded = highs;
    }, () => {
      if (runtime === loading) runtime = undefined;
    });
  }
  return runtime;
}

/** Whether the solver is compiled or compiling. */
export function isSolverLoading(): boolean {
  return runtime !== undefined;
}

/** Whether a solve would start at once (the solver is loaded and compiled). */
export function isSolverReady(): boolean {
  return loaded !== undefined;
}

/**
 * The least time limit for which a solve starts compiling HiGHS when nothing else has: the compile
 * takes seconds of CPU that cannot be interrupted (a process does not even exit before it ends).
 */
export const COMPILE_WORTH_MS = 3000;

/**
 * Solves within `timeLimitMs`, loading time included: when the solver is still compiling at the
 * limit (or not compiling, and the limit is below COMPILE_WORTH_MS), the outcome is `unknown` with
 * no bound; a compilation under way goes on for the next solve.
 */
export async function solveMip(model: MipModel, options: MipSolveOptions): Promise<MipOutcome> {
  const startedMs = Date.now();
  const worthWaiting = runtime !== undefined || options.timeLimitMs >= COMPILE_WORTH_MS;
  const highs = loaded ?? (worthWaiting ? await readyWithin(options.timeLimitMs) : undefined);
  const leftMs = options.timeLimitMs - (Date.now() - startedMs);
  if (!highs || leftMs <= 0) return { status: 'unknown', bound: -Infinity };
  try {
    return solveOn(highs, model, startedMs + options.timeLimitMs, options);
  } catch (err) {
    runtime = undefined;
    loaded = undefined;
    throw err;
  }
}

/** Least time left, once the model is loaded, for which HiGHS is run at all. */
const LEAST_RUN_MS = 5;

/** Models with more columns than this are also checked at every simplex iteration inside branch and bound. */
const SIMPLEX_CHECK_COLUMNS = 2000;

/** How long before the caller's deadline a solve is interrupted: what is left goes to reading its answer. */
const STOP_EARLY_MS = 3;

async function readyWithin(ms: number): Promise<Highs | undefined> {
  let timer: NodeJS.Timeout | undefined;
  const timeUp = new Promise<undefined>((resolve) => {
    timer = setTimeout(() => resolve(undefined), Math.max(0, ms));
  });
  try {
    return await Promise.race([loadSolver(), timeUp]);
  } finally {
    clearTimeout(timer);
  }
}

function solveOn(highs: Highs, model: MipModel, deadlineMs: number, { start, seed, restart }: MipSolveOptions): MipOutcome {
  const n = model.columns.length;
  const m = model.rows.length;
  const starts = new Int32Array(m + 1);
  let nonzeros = 0;
  for (let i = 0; i < m; i++) {
    nonzeros += model.rows[i].terms.length;
    starts[i + 1] = nonzeros;
  }
  const indices = new Int32Array(nonzeros);
  const values = new Float64Array(nonzeros);
  let k = 0;
  for (const row of model.rows) {
    for (const [j, coef] of row.terms) {
      indices[k] = j;
      values[k++] = coef;
    }
  }
  const inf = highs.infinity;
  const bound = (x: number) => (x === Infinity ? inf : x === -Infinity ? -inf : x);
  const hasInteger = model.columns.some((c) => c.integer);
  const instance = highs.createModel({
    numCols: n,
    numRows: m,
    offset: model.offset,
    colCost: Float64Array.from(model.columns, (c) => c.cost),
    colLower: Float64Array.from(model.columns, (c) => bound(c.lower)),
    colUpper: Float64Array.from(model.columns, (c) => bound(c.upper)),
    rowLower: Float64Array.from(model.rows, (r) => bound(r.lower)),
    rowUpper: Float64Array.from(model.rows, (r) => bound(r.upper)),
    matrix: { format: 'csr', numRows: m, numCols: n, starts, indices, values },
    ...(hasInteger ? { integrality: Int32Array.from(model.columns, (c) => (c.integer ? 1 : 0)) as never } : {}),
  });
  try {
    // Copying the model into HiGHS takes time too (hundreds of ms for 20 000 columns on a loaded
    // machine), so its clock starts only now, and a model loaded too late is not solved at all.
    const leftMs = deadlineMs - Date.now();
    if (leftMs < LEAST_RUN_MS) return { status: 'unknown', bound: -Infinity };
    // HiGHS looks at its own clock only between steps and ends past its limit (tens of ms on large
    // models, over 100 ms on a loaded machine). So it is also stopped from here: at every simplex
    // iteration of an LP and every check of branch and bound, the deadline is compared with the
    // wall clock, and the solve interrupted once it is past, its incumbent and bound kept. Its own
    // limit, a little earlier, ends it cleanly where it can.
    instance.options.set({
      output_flag: false,
      time_limit: Math.max(0.001, (leftMs * 0.9 - 5) / 1000),
      mip_rel_gap: 0,
      mip_abs_gap: 1e-6,
      ...(seed !== undefined ? { random_seed: seed } : {}),
      ...(restart === false ? { mip_allow_restart: false } : {}),
    });
    if (start) instance.setSolution({ colValue: Float64Array.from(start) });
    const stopMs = deadlineMs - STOP_EARLY_MS;
    const stopWhenLate = (event: { interrupt(): void }) => {
      if (Date.now() >= stopMs) event.interrupt();
      return undefined;
    };
    const types = highs.constants.callbackType;
    // Every simplex iteration calls back into JavaScript, which small models with many short LPs
    // pay for; in branch and bound it is only needed on large models, whose root LP alone is a long
    // stretch without any other check.
    const everyIteration = !hasInteger || n > SIMPLEX_CHECK_COLUMNS;
    instance.run({
      ...(everyIteration ? { [types.simplexInterrupt]: stopWhenLate, [types.ipmInterrupt]: stopWhenLate } : {}),
      ...(hasInteger ? { [types.mipInterrupt]: stopWhenLate } : {}),
    });
    const status = instance.getModelStatus();
    const codes = highs.constants.modelStatus;
    const primalStatus = Number(instance.info.get('primal_solution_status'));
    const hasSolution = primalStatus === 2;
    const dualBound = hasInteger ? Number(instance.info.get('mip_dual_bound')) : -Infinity;
    if (status === codes.optimal) {
      const objective = instance.getObjectiveValue();
      return { status: 'optimal', values: instance.getSolution().colValue, objective, bound: objective };
    }
    if (status === codes.infeasible) return { status: 'infeasible', bound: Infinity };
    if (hasSolution) {
      return {
        status: 'feasible',
        values: instance.getSolution().colValue,
        objective: instance.getObjectiveValue(),
        bound: Number.isFinite(dualBound) ? dualBound : -Infinity,
      };
    }
    return { status: 'unknown', bound: Number.isFinite(dualBound) ? dualBound : -Infinity };
  } finally {
    instance.dispose();
  }
}

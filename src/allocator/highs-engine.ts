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
}

// The WASM runtime is loaded once per process: loading costs tens of milliseconds and its memory
// stays reserved. After a native error the runtime may be left inconsistent, so it is dropped and
// the next solve loads a fresh one.
let runtime: Promise<Highs> | undefined;

function loadRuntime(): Promise<Highs> {
  if (!runtime) {
    // V8 first runs WebAssembly through its baseline compiler and optimises hot functions later; for
    // HiGHS that later is many solves away (measured: ~80 ms CPU per tiny MIP for the first dozens of
    // solves, 12 ms once optimised). Compiling each function optimised on first use costs about 2 s
    // of CPU once per process and makes every solve after it fast. Only WebAssembly compiled from
    // now on is affected; no other part of the executor uses WebAssembly.
    v8.setFlagsFromString('--no-liftoff');
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const load = require('highs') as (settings?: object) => Promise<Highs>;
    runtime = load().catch((err: unknown) => {
      runtime = undefined;
      throw err;
    });
  }
  return runtime;
}

export async function solveMip(model: MipModel, options: MipSolveOptions): Promise<MipOutcome> {
  const highs = await loadRuntime();
  try {
    return solveOn(highs, model, options);
  } catch (err) {
    runtime = undefined;
    throw err;
  }
}

function solveOn(highs: Highs, model: MipModel, options: MipSolveOptions): MipOutcome {
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
    instance.options.set({
      output_flag: false,
      time_limit: Math.max(0.001, options.timeLimitMs / 1000),
      mip_rel_gap: 0,
      mip_abs_gap: 1e-6,
    });
    if (options.start) instance.setSolution({ colValue: Float64Array.from(options.start) });
    instance.run();
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

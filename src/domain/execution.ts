import { Action, describeAction, Steps } from './action';
import { Drift } from './drift';
import { Allocation, Placement, TierResources } from './allocation';
import { VmReport } from './cluster';
import { ErrorCode } from './errors';
import { HookResult } from './hook-result';

/**
 *   queued --> running --> succeeded
 *     |           |------> failed      (an action failed, no solution, or the daemon stopped mid-way)
 *     |           '------> cancelled   (POST /api/executions/:id/cancel while running)
 *     |------------------> cancelled   (cancelled before it started)
 *     |------------------> superseded  (merged into a newer plan before it started: `superseded_by`)
 *     '------------------> failed      (the daemon stopped before it started: `interrupted`)
 *
 * An action: pending --> running --> succeeded | failed; pending --> skipped | cancelled (never run).
 * The functions below are the only writers of these statuses; each refuses a move the diagram lacks.
 */
/**
 * Who asked for an execution: a plan, or one of the daemon's own (drift repair, healing, drain,
 * rollback, a system start, a change of the fleet's size for queued jobs: `scale`).
 */
export type ExecutionKind = 'plan' | 'reconcile' | 'heal' | 'drain' | 'rollback' | 'system' | 'scale';

export type ExecutionStatus = 'queued' | 'running' | 'succeeded' | 'failed' | 'cancelled' | 'superseded';

export type ActionStatus = 'pending' | 'running' | 'succeeded' | 'failed' | 'skipped' | 'cancelled';

export interface ActionRecord {
  description: string;
  action: Action;
  status: ActionStatus;
  started_at?: string;
  finished_at?: string;
  duration_ms?: number;
  error?: string;
  /** The code of what failed (the driver's own: `engine`, `timeout`, `cloud` …; `hook_failed` for a failing hook). */
  error_code?: ActionErrorCode;
  /** For create_vm: the VM the placeholder became. */
  vm?: string;
  container_id?: string;
  hooks: HookResult[];
  progress: string[];
}

/** What an action failed with: a domain error's code, or `hook_failed` when the hook ran and said no. */
export type ActionErrorCode = ErrorCode | 'hook_failed';

export interface ActionError {
  code: ActionErrorCode;
  message: string;
}

export interface Execution {
  id: string;
  /** What asked for it: a plan, or the daemon itself (drift repair, heal, drain, rollback, systems). */
  kind: ExecutionKind;
  status: ExecutionStatus;
  /** The plan as received (flat tier names); tiers it does not name keep their resources. */
  plan: TierResources;
  created_at: string;
  started_at?: string;
  finished_at?: string;
  error?: { code: ErrorCode; message: string };
  /** Commit of the hooks repository the hooks ran from. */
  hooks_commit?: string;
  cost?: number;
  lower_bound?: number;
  optimal?: boolean;
  allocation_before?: Allocation;
  /** The placement the plan asked for (placeholder names for new VMs). */
  target?: Placement;
  /** What runs where when it finished, with each VM's address (the execute answer's `allocation`). */
  allocation_after?: Record<string, VmReport>;
  /** Actions in layers, as carried out. */
  steps: ActionRecord[][];
  /** Solve, translate and run durations. */
  timings_ms: Record<string, number>;
  /** Status `superseded`: the newer execution this plan was merged into, which carried it out. */
  superseded_by?: string;
  /** The queued plans merged into this one (oldest first); its `plan` is their merge with its own. */
  supersedes?: string[];
  /** A rollback: the execution whose starting placement it returns to. */
  rollback_of?: string;
  /** The rollback the `on_failure: rollback` policy submitted after this execution failed. */
  rolled_back_by?: string;
  /** What the daemon decided that a reader should know (e.g. tiers a rollback left out). */
  notes?: string[];
  /** A drift repair (`kind: reconcile`): what changed behind the executor's back. */
  drift?: Drift[];
  /**
   * On PostgreSQL: the epoch of the leader that ran it (or holds it queued); a leader that takes
   * over and marks it `interrupted` leaves it as it was. Set by the state store, never by a client.
   */
  epoch?: number;
}

/** The statuses an execution ends in: nothing changes it after one of these. */
export const FINISHED_STATUSES: readonly ExecutionStatus[] = ['succeeded', 'failed', 'cancelled', 'superseded'];

export function isFinished(status: ExecutionStatus): boolean {
  return FINISHED_STATUSES.includes(status);
}

/** Records written before this field existed were all plans. */
export function kindOf(execution: Pick<Execution, 'kind'>): ExecutionKind {
  return execution.kind ?? 'plan';
}

export function newExecution(id: string, plan: TierResources, kind: ExecutionKind = 'plan', now = new Date()): Execution {
  return { id, kind, status: 'queued', plan, created_at: now.toISOString(), steps: [], timings_ms: {} };
}

/** One pending record per action, in the translator's layers. */
export function newRecords(steps: Steps): ActionRecord[][] {
  return steps.map((layer) => layer.map((action) => ({ description: describeAction(action), action, status: 'pending', hooks: [], progress: [] })));
}

/** A move the state diagram above does not have: a fault of the code, never of the input. */
export class TransitionError extends Error {}

function expect<S extends string>(what: string, status: S, allowed: readonly S[], to: string): void {
  if (!allowed.includes(status)) throw new TransitionError(`${what} cannot go from ${status} to ${to}`);
}

export function startExecution(execution: Execution, now = new Date()): void {
  expect(`execution ${execution.id}`, execution.status, ['queued'], 'running');
  execution.status = 'running';
  execution.started_at = now.toISOString();
}

/** Ends an execution: `running` to any end; `queued` only to `cancelled` (cancelled before its turn). */
export function finishExecution(
  execution: Execution, status: 'succeeded' | 'failed' | 'cancelled', error?: { code: ErrorCode; message: string }, now = new Date(),
): void {
  expect(`execution ${execution.id}`, execution.status, status === 'cancelled' ? ['queued', 'running'] : ['running'], status);
  execution.status = status;
  execution.finished_at = now.toISOString();
  if (error) execution.error = error;
}

/** A queued plan merged into the newer execution `by`, which carries out both. */
export function supersedeExecution(execution: Execution, by: string, now = new Date()): void {
  expect(`execution ${execution.id}`, execution.status, ['queued'], 'superseded');
  execution.status = 'superseded';
  execution.finished_at = now.toISOString();
  execution.superseded_by = by;
}

/**
 * An execution a stopped daemon left queued or running: failed with code `interrupted`; its running
 * actions failed, its pending ones skipped. Returns the actions it changed, with their places.
 */
export function markInterrupted(execution: Execution, now = new Date()): { layer: number; index: number; record: ActionRecord }[] {
  expect(`execution ${execution.id}`, execution.status, ['queued', 'running'], 'failed');
  execution.status = 'failed';
  execution.finished_at = now.toISOString();
  execution.error = { code: 'interrupted', message: 'the daemon stopped while this execution was queued or running' };
  const changed: { layer: number; index: number; record: ActionRecord }[] = [];
  execution.steps.forEach((layer, l) => layer.forEach((record, i) => {
    if (record.status !== 'pending' && record.status !== 'running') return;
    if (record.status === 'running') {
      // Whether its change took effect is for the engines to tell: the allocation is re-read from them.
      record.status = 'failed';
      record.finished_at = now.toISOString();
      record.error = 'interrupted: the daemon stopped while this action was running';
      record.error_code = 'interrupted';
    } else {
      record.status = 'skipped';
    }
    changed.push({ layer: l, index: i, record });
  }));
  return changed;
}

export function startAction(record: ActionRecord, now = new Date()): void {
  expect(`action '${record.description}'`, record.status, ['pending'], 'running');
  record.status = 'running';
  record.started_at = now.toISOString();
}

/** Ends a running action, with how long it ran and, for a failure, what failed. */
export function finishAction(record: ActionRecord, status: 'succeeded' | 'failed', error?: ActionError, now = new Date()): void {
  expect(`action '${record.description}'`, record.status, ['running'], status);
  record.status = status;
  record.finished_at = now.toISOString();
  if (record.started_at) record.duration_ms = now.getTime() - Date.parse(record.started_at);
  if (error) {
    record.error = error.message;
    record.error_code = error.code;
  }
}

/** An action that never ran: after a failure (`skipped`) or a cancel (`cancelled`). */
export function passAction(record: ActionRecord, status: 'skipped' | 'cancelled'): void {
  expect(`action '${record.description}'`, record.status, ['pending'], status);
  record.status = status;
}

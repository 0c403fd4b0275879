import { Action } from './action';
import { Allocation, Placement, TierResources } from './allocation';
import { HookResult } from '../ports/hook-runner';

/**
 *   queued --> running --> succeeded
 *     |           |------> failed      (an action failed, no solution, or the daemon stopped mid-way)
 *     |           '------> cancelled   (POST /api/executions/:id/cancel while running)
 *     '------------------> cancelled   (cancelled before it started)
 */
export type ExecutionStatus = 'queued' | 'running' | 'succeeded' | 'failed' | 'cancelled';

export type ActionStatus = 'pending' | 'running' | 'succeeded' | 'failed' | 'skipped' | 'cancelled';

export interface ActionRecord {
  description: string;
  action: Action;
  status: ActionStatus;
  started_at?: string;
  finished_at?: string;
  duration_ms?: number;
  error?: string;
  /** For create_vm: the VM the placeholder became. */
  vm?: string;
  container_id?: string;
  hooks: HookResult[];
  progress: string[];
}

export interface Execution {
  id: string;
  status: ExecutionStatus;
  /** The plan as received (flat tier names); tiers it does not name keep their resources. */
  plan: TierResources;
  created_at: string;
  started_at?: string;
  finished_at?: string;
  error?: { code: string; message: string };
  /** Commit of the hooks repository the hooks ran from. */
  hooks_commit?: string;
  cost?: number;
  lower_bound?: number;
  optimal?: boolean;
  allocation_before?: Allocation;
  /** The placement the plan asked for (placeholder names for new VMs). */
  target?: Placement;
  allocation_after?: Allocation;
  /** Actions in layers, as carried out. */
  steps: ActionRecord[][];
  /** Solve, translate and run durations. */
  timings_ms: Record<string, number>;
}

export function isFinished(status: ExecutionStatus): boolean {
  return status === 'succeeded' || status === 'failed' || status === 'cancelled';
}

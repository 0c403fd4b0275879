import { Execution, kindOf } from '../domain/execution';
import { statusOfCode } from './error-mapper';
import { ExecutionAnswerWire, ExecutionRecordWire, ExecutionSummaryWire } from './wire';

/** The status of a finished execution's answer: 200 when it succeeded, else its error code's (one table). */
export function statusOfExecution(execution: Execution): number {
  if (execution.status === 'succeeded') return 200;
  return statusOfCode(execution.error?.code ?? (execution.status === 'cancelled' ? 'cancelled' : undefined));
}

/** The answer of `PUT /api/execute` (and `POST /api/executor`), built from the record alone. */
export function executionResponse(execution: Execution): ExecutionAnswerWire {
  const failed = execution.status !== 'succeeded';
  return {
    ...(failed ? { error: execution.error?.message ?? execution.status, code: execution.error?.code ?? execution.status } : {}),
    execution_id: execution.id,
    kind: kindOf(execution),
    status: execution.status,
    allocation: execution.allocation_after ?? {},
    actions: execution.steps.map((layer) => layer.map((r) => r.description)),
    steps: execution.steps,
    cost: execution.cost,
    lower_bound: execution.lower_bound,
    optimal: execution.optimal,
    timings_ms: execution.timings_ms,
    ...(execution.rollback_of ? { rollback_of: execution.rollback_of } : {}),
    ...(execution.rolled_back_by ? { rolled_back_by: execution.rolled_back_by } : {}),
    ...(execution.notes?.length ? { notes: execution.notes } : {}),
  };
}

/** One line of `GET /api/executions`. */
export function summarise(execution: Execution): ExecutionSummaryWire {
  const records = execution.steps.flat();
  const count = (status: string) => records.filter((r) => r.status === status).length;
  return {
    id: execution.id,
    kind: kindOf(execution),
    status: execution.status,
    plan: execution.plan,
    created_at: execution.created_at,
    started_at: execution.started_at,
    finished_at: execution.finished_at,
    error: execution.error,
    ...(execution.superseded_by ? { superseded_by: execution.superseded_by } : {}),
    cost: execution.cost,
    actions: { total: records.length, succeeded: count('succeeded'), failed: count('failed'), skipped: count('skipped'), cancelled: count('cancelled') },
    ...(execution.rollback_of ? { rollback_of: execution.rollback_of } : {}),
    ...(execution.rolled_back_by ? { rolled_back_by: execution.rolled_back_by } : {}),
    resource_uri: `/api/executions/${execution.id}`,
  };
}

/** The answer of `GET /api/executions/:id`: the record, with its kind always set. */
export function executionRecord(execution: Execution): ExecutionRecordWire {
  return { ...execution, kind: kindOf(execution) };
}

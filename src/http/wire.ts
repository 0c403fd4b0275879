/**
 * The shapes the API answers with, declared once: the HTTP layer builds them and the command line
 * reads them. Types only, over the domain's records, so a client imports no server code.
 */
import type { VmReport } from '../domain/cluster';
import type { ActionRecord, Execution, ExecutionKind, ExecutionStatus } from '../domain/execution';

/** `GET /api/executions/:id`: the record as kept, with its kind always set. */
export type ExecutionRecordWire = Execution & { kind: ExecutionKind };

/** One action of `ExecutionRecordWire.steps`. */
export type ActionRecordWire = ActionRecord;

/** `PUT /api/execute?wait=false` (and `POST /api/executor?wait=false`): 202, the plan is queued. */
export interface ExecutionAcceptedWire {
  execution_id: string;
  status: ExecutionStatus;
}

/** `PUT /api/execute` (and `POST /api/executor`) once the execution has finished. */
export interface ExecutionAnswerWire {
  /** Set unless it succeeded: the error's message (or the status). */
  error?: string;
  /** Set unless it succeeded: the error's code (or the status). */
  code?: string;
  execution_id: string;
  kind: ExecutionKind;
  status: ExecutionStatus;
  allocation: Record<string, VmReport>;
  actions: string[][];
  steps: ActionRecord[][];
  cost?: number;
  lower_bound?: number;
  optimal?: boolean;
  timings_ms: Record<string, number>;
  rollback_of?: string;
  rolled_back_by?: string;
  notes?: string[];
}

/** One line of `GET /api/executions`. */
export interface ExecutionSummaryWire {
  id: string;
  kind: ExecutionKind;
  status: ExecutionStatus;
  plan: Execution['plan'];
  created_at: string;
  started_at?: string;
  finished_at?: string;
  error?: Execution['error'];
  superseded_by?: string;
  cost?: number;
  actions: { total: number; succeeded: number; failed: number; skipped: number; cancelled: number };
  rollback_of?: string;
  rolled_back_by?: string;
  resource_uri: string;
}

/** `POST /api/executions/:id/cancel`: 202. */
export interface CancelAcceptedWire {
  execution_id: string;
  status: 'cancelling';
}

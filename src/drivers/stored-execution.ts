import { ActionRecord, Execution } from '../domain/execution';

/**
 * How both state databases (sqlite/, postgres/) lay out an execution: one row whose `record`
 * column holds the execution without its actions plus the size of each layer, and one row per
 * action, so an action's progress is a small write of its own.
 */
export interface ExecutionRow {
  id: string;
  record: string;
  /** The epoch column (PostgreSQL only): the leader's, which the record then carries as `epoch`. */
  epoch?: string | number | null;
}

export interface ActionRow {
  execution_id: string;
  layer: number;
  idx: number;
  record: string;
}

/** What the `record` column holds: the execution without its actions, plus the size of each layer. */
type StoredRecord = Omit<Execution, 'steps'> & { layers: number[] };

/** The `record` column's JSON for an execution. */
export function storedRecordJson(execution: Execution): string {
  const { steps, ...rest } = execution;
  const record: StoredRecord = { ...rest, layers: steps.map((layer) => layer.length) };
  return JSON.stringify(record);
}

/** Action rows by the execution they belong to, in the order given. */
export function actionsByExecution(rows: ActionRow[]): Map<string, ActionRow[]> {
  const actions = new Map<string, ActionRow[]>();
  for (const a of rows) {
    let list = actions.get(a.execution_id);
    if (!list) actions.set(a.execution_id, (list = []));
    list.push(a);
  }
  return actions;
}

/**
 * An execution from its row and its action rows; throws when the JSON does not read (the caller
 * sets the row aside). Only the actions of the record's layers count: rows of an earlier set of
 * actions are ignored.
 */
export function executionFromRows(row: ExecutionRow, actions: readonly ActionRow[]): Execution {
  const { layers, epoch, ...rest } = JSON.parse(row.record) as StoredRecord;
  const shape = layers ?? [];
  const steps: ActionRecord[][] = shape.map(() => []);
  for (const a of actions) {
    if (a.layer < shape.length && a.idx < shape[a.layer]) steps[a.layer][a.idx] = JSON.parse(a.record) as ActionRecord;
  }
  const leader = row.epoch === undefined || row.epoch === null ? epoch : Number(row.epoch);
  return { ...rest, ...(leader === undefined ? {} : { epoch: leader }), steps } as Execution;
}

import { ActionRecord, Execution, ExecutionStatus } from '../domain/execution';

/** What `GET /api/executions` may filter on. Every field narrows the result; absent = no condition. */
export interface ExecutionFilter {
  status?: ExecutionStatus[];
  kind?: string[];
  /** Created at or after this instant (ISO 8601). */
  since?: string;
  /** Keyset paging: only executions older than this id (ids sort by creation time). */
  before?: string;
}

export interface ExecutionPage {
  limit: number;
  offset: number;
  filter?: ExecutionFilter;
}

/** Finished executions to remove: those created before `olderThan` that are not among the newest `keep`. */
export interface RetentionPolicy {
  keep: number;
  olderThan: Date;
}

/** Keeps every execution, newest first. */
export interface ExecutionStore {
  save(execution: Execution): Promise<void>;
  get(id: string): Promise<Execution | undefined>;
  /** `total` counts every execution matching the filter, whatever the page. */
  list(page: ExecutionPage): Promise<{ total: number; items: Execution[] }>;
  /** Executions still `queued` or `running`, oldest first: what a stopped daemon left behind. */
  listUnfinished(): Promise<Execution[]>;
  /** Removes finished executions the policy no longer keeps; never an unfinished one. Resolves how many went. */
  prune(policy: RetentionPolicy): Promise<number>;
  /**
   * Writes one action's record as it changes, without rewriting the execution (optional: a store
   * without it gets the whole record through `save`).
   */
  saveAction?(executionId: string, layer: number, index: number, record: ActionRecord): Promise<void>;
}

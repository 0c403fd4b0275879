import { Execution } from '../domain/execution';

/** Keeps every execution, newest first. */
export interface ExecutionStore {
  save(execution: Execution): Promise<void>;
  get(id: string): Promise<Execution | undefined>;
  list(page: { limit: number; offset: number }): Promise<{ total: number; items: Execution[] }>;
}

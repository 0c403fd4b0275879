import { Execution } from '../../domain/execution';
import { ExecutionStore } from '../../ports/execution-store';

/** Executions in memory, newest first, copied in and out like a real store (a later change to the object is not seen until saved). */
export class MemoryExecutionStore implements ExecutionStore {
  private readonly byId = new Map<string, string>();
  readonly saves: string[] = [];

  async save(execution: Execution): Promise<void> {
    this.byId.set(execution.id, JSON.stringify(execution));
    this.saves.push(execution.id);
  }

  async get(id: string): Promise<Execution | undefined> {
    const text = this.byId.get(id);
    return text === undefined ? undefined : JSON.parse(text);
  }

  async list(page: { limit: number; offset: number }): Promise<{ total: number; items: Execution[] }> {
    const ids = [...this.byId.keys()].sort().reverse();
    return { total: ids.length, items: ids.slice(page.offset, page.offset + page.limit).map((id) => JSON.parse(this.byId.get(id)!)) };
  }
}

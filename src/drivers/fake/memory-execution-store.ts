import { Execution, isFinished, kindOf } from '../../domain/execution';
import { ExecutionPage, ExecutionStore, RetentionPolicy } from '../../ports/execution-store';

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

  async list(page: ExecutionPage): Promise<{ total: number; items: Execution[] }> {
    const f = page.filter ?? {};
    const all = this.all().reverse().filter((e) => (!f.status || f.status.includes(e.status)) && (!f.kind || f.kind.includes(kindOf(e)))
      && (!f.since || e.created_at >= f.since) && (!f.before || e.id < f.before));
    return { total: all.length, items: all.slice(page.offset, page.offset + page.limit) };
  }

  async listUnfinished(): Promise<Execution[]> {
    return this.all().filter((e) => !isFinished(e.status));
  }

  async prune(policy: RetentionPolicy): Promise<number> {
    const newestFirst = this.all().reverse();
    let pruned = 0;
    for (const e of newestFirst.slice(policy.keep)) {
      if (isFinished(e.status) && Date.parse(e.created_at) < policy.olderThan.getTime()) {
        this.byId.delete(e.id);
        pruned++;
      }
    }
    return pruned;
  }

  private all(): Execution[] {
    return [...this.byId.keys()].sort().map((id) => JSON.parse(this.byId.get(id)!) as Execution);
  }
}

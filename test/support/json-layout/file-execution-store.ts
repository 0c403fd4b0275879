import { promises as fs } from 'fs';
import * as path from 'path';
import { Execution, isFinished, kindOf } from '../../../src/domain/execution';
import { ExecutionFilter, ExecutionPage, ExecutionStore, RetentionPolicy } from '../../../src/ports/execution-store';
import { readJsonIfExists, writeFileAtomic } from './atomic-write';

/**
 * The earlier state layout: one JSON file per execution under `<state dir>/executions/`. Ids sort
 * by creation time, so the directory listing is the history. Writes of one execution are
 * serialised so a slow write never overtakes a newer one. Filters read every record. The daemon
 * only imports this layout (src/drivers/sqlite/import-json-state.ts): tests write old state dirs
 * with it, and the state benchmark compares it with the database.
 */
export class FileExecutionStore implements ExecutionStore {
  private readonly dir: string;
  private readonly writes = new Map<string, Promise<void>>();
  private ids?: string[];

  constructor(stateDir: string) {
    this.dir = path.join(stateDir, 'executions');
  }

  async save(execution: Execution): Promise<void> {
    const content = JSON.stringify(execution, null, 2) + '\n';
    const previous = this.writes.get(execution.id) ?? Promise.resolve();
    const next = previous.catch(() => undefined).then(() => writeFileAtomic(this.fileOf(execution.id), content));
    this.writes.set(execution.id, next);
    const ids = await this.loadIds();
    if (!ids.includes(execution.id)) {
      ids.push(execution.id);
      ids.sort();
    }
    await next;
    if (this.writes.get(execution.id) === next) this.writes.delete(execution.id);
  }

  async get(id: string): Promise<Execution | undefined> {
    if (!/^[A-Za-z0-9-]{1,64}$/.test(id)) return undefined;
    await this.writes.get(id);
    return (await readJsonIfExists(this.fileOf(id))) as Execution | undefined;
  }

  async list(page: ExecutionPage): Promise<{ total: number; items: Execution[] }> {
    const ids = [...(await this.loadIds())].reverse();
    const filter = page.filter ?? {};
    if (!filter.status && !filter.kind && !filter.since && !filter.before) {
      const items = await Promise.all(ids.slice(page.offset, page.offset + page.limit).map((id) => this.get(id)));
      return { total: ids.length, items: items.filter((e): e is Execution => e !== undefined) };
    }
    const matching: Execution[] = [];
    for (const id of ids) {
      if (filter.before !== undefined && id >= filter.before) continue;
      const execution = await this.get(id);
      if (execution && matches(execution, filter)) matching.push(execution);
    }
    return { total: matching.length, items: matching.slice(page.offset, page.offset + page.limit) };
  }

  async listUnfinished(): Promise<Execution[]> {
    const unfinished: Execution[] = [];
    for (const id of await this.loadIds()) {
      const execution = await this.get(id);
      if (execution && !isFinished(execution.status)) unfinished.push(execution);
    }
    return unfinished;
  }

  async prune(policy: RetentionPolicy): Promise<number> {
    const ids = [...(await this.loadIds())].reverse();
    let pruned = 0;
    for (const id of ids.slice(policy.keep)) {
      const execution = await this.get(id);
      if (!execution || !isFinished(execution.status) || Date.parse(execution.created_at) >= policy.olderThan.getTime()) continue;
      await fs.rm(this.fileOf(id), { force: true });
      this.ids = this.ids?.filter((other) => other !== id);
      pruned++;
    }
    return pruned;
  }

  private async loadIds(): Promise<string[]> {
    if (!this.ids) {
      await fs.mkdir(this.dir, { recursive: true });
      const files = await fs.readdir(this.dir);
      this.ids = files.filter((f) => f.endsWith('.json')).map((f) => f.slice(0, -'.json'.length)).sort();
    }
    return this.ids;
  }

  private fileOf(id: string): string {
    return path.join(this.dir, `${id}.json`);
  }
}

function matches(execution: Execution, filter: ExecutionFilter): boolean {
  if (filter.status && !filter.status.includes(execution.status)) return false;
  if (filter.kind && !filter.kind.includes(kindOf(execution))) return false;
  if (filter.since && execution.created_at < filter.since) return false;
  return true;
}

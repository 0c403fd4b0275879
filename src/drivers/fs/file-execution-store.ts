import { promises as fs } from 'fs';
import * as path from 'path';
import { Execution } from '../../domain/execution';
import { ExecutionStore } from '../../ports/execution-store';
import { readJsonIfExists, writeFileAtomic } from './atomic-write';

/**
 * One JSON file per execution under `<state dir>/executions/`. Ids sort by creation time, so the
 * directory listing is the history. Writes of one execution are serialised so a slow write never
 * overtakes a newer one.
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
    if (!/^[A-Za-z0-9-]+$/.test(id)) return undefined;
    await this.writes.get(id);
    return (await readJsonIfExists(this.fileOf(id))) as Execution | undefined;
  }

  async list(page: { limit: number; offset: number }): Promise<{ total: number; items: Execution[] }> {
    const ids = [...(await this.loadIds())].reverse();
    const items = await Promise.all(ids.slice(page.offset, page.offset + page.limit).map((id) => this.get(id)));
    return { total: ids.length, items: items.filter((e): e is Execution => e !== undefined) };
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

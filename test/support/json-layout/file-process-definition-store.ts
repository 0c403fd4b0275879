import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { randomBytes } from 'node:crypto';
import { InfrastructureError, ValidationError } from '../../../src/domain/errors';
import { isValidName } from '../../../src/domain/names';
import { ProcessDefinition } from '../../../src/domain/process-definition';
import { parseProcessDefinition } from '../../../src/schema/process-definition';
import { ProcessDefinitionPage, ProcessDefinitionStore, StoredProcessDefinition } from '../../../src/ports/process-definition-store';

/** On-disk shape. An array keeps insertion order (object keys that look like numbers would be re-sorted). */
interface StoreFile {
  version: 1;
  /** Next id `create` hands out; never goes back, so a deleted definition's id is not reused. */
  next_id: number;
  definitions: { id: string; definition: Record<string, unknown> }[];
}

export const PROCESS_DEFINITIONS_FILE = 'process-definitions.json';

/**
 * The process definition registry as one JSON file, `<state dir>/process-definitions.json`.
 * Every change rewrites the file atomically (temporary file, fsync, rename), so a crash leaves
 * either the old or the new registry, never half of one. Changes are serialised in this process.
 */
export class FileProcessDefinitionStore implements ProcessDefinitionStore {
  private state: { nextId: number; items: StoredProcessDefinition[] } | undefined;
  private queue: Promise<unknown> = Promise.resolve();

  private readonly file: string;

  constructor(stateDir: string) {
    this.file = path.join(stateDir, PROCESS_DEFINITIONS_FILE);
  }

  list(page: { limit?: number; offset: number }): Promise<ProcessDefinitionPage> {
    return this.serialised(async () => {
      const { items } = await this.load();
      const end = page.limit === undefined ? undefined : page.offset + page.limit;
      return { total: items.length, items: items.slice(page.offset, end) };
    });
  }

  get(id: string): Promise<ProcessDefinition | undefined> {
    return this.serialised(async () => (await this.load()).items.find((item) => item.id === id)?.definition);
  }

  create(definition: ProcessDefinition): Promise<string> {
    return this.serialised(async () => {
      const state = await this.load();
      let nextId = state.nextId;
      // A definition stored under a chosen numeric name must not be overwritten by a generated id.
      while (state.items.some((item) => item.id === String(nextId))) nextId++;
      const id = String(nextId);
      await this.save({ nextId: nextId + 1, items: [...state.items, { id, definition }] });
      return id;
    });
  }

  put(id: string, definition: ProcessDefinition): Promise<{ created: boolean }> {
    if (!isValidName(id)) {
      return Promise.reject(new ValidationError('id', `'${id}' is not a valid id ([A-Za-z0-9][A-Za-z0-9_.-]*)`));
    }
    return this.serialised(async () => {
      const state = await this.load();
      const index = state.items.findIndex((item) => item.id === id);
      const items = [...state.items];
      if (index >= 0) items[index] = { id, definition };
      else items.push({ id, definition });
      const numeric = /^\d+$/.test(id) ? Number(id) + 1 : 0;
      await this.save({ nextId: Math.max(state.nextId, numeric), items });
      return { created: index < 0 };
    });
  }

  delete(id: string): Promise<boolean> {
    return this.serialised(async () => {
      const state = await this.load();
      const items = state.items.filter((item) => item.id !== id);
      if (items.length === state.items.length) return false;
      await this.save({ nextId: state.nextId, items });
      return true;
    });
  }

  private serialised<T>(work: () => Promise<T>): Promise<T> {
    const run = this.queue.then(work, work);
    this.queue = run.catch(() => undefined);
    return run;
  }

  private async load(): Promise<{ nextId: number; items: StoredProcessDefinition[] }> {
    if (this.state) return this.state;
    let text: string;
    try {
      text = await fs.readFile(this.file, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
        this.state = { nextId: 1, items: [] };
        return this.state;
      }
      throw new InfrastructureError(`cannot read process definitions from ${this.file}: ${(err as Error).message}`, 'state', err);
    }
    try {
      const parsed = JSON.parse(text) as StoreFile;
      if (!Array.isArray(parsed.definitions) || typeof parsed.next_id !== 'number') throw new Error('not a process definition registry');
      this.state = {
        nextId: parsed.next_id,
        items: parsed.definitions.map((d, i) => ({ id: String(d.id), definition: parseProcessDefinition(d.definition, `definitions[${i}].definition`) })),
      };
      return this.state;
    } catch (err) {
      throw new InfrastructureError(`process definitions in ${this.file} are unreadable: ${(err as Error).message}`, 'state', err);
    }
  }

  private async save(state: { nextId: number; items: StoredProcessDefinition[] }): Promise<void> {
    const content: StoreFile = {
      version: 1,
      next_id: state.nextId,
      definitions: state.items.map((item) => ({ id: item.id, definition: item.definition.document })),
    };
    await fs.mkdir(path.dirname(this.file), { recursive: true });
    const temp = `${this.file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
    try {
      const handle = await fs.open(temp, 'w', 0o600);
      try {
        await handle.writeFile(JSON.stringify(content, null, 2) + '\n');
        await handle.sync();
      } finally {
        await handle.close();
      }
      await fs.rename(temp, this.file);
    } catch (err) {
      await fs.rm(temp, { force: true });
      throw new InfrastructureError(`cannot write process definitions to ${this.file}: ${(err as Error).message}`, 'state', err);
    }
    // Only once the file holds the change does the registry answer with it.
    this.state = state;
  }
}

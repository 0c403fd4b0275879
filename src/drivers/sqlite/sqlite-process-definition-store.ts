import { ValidationError } from '../../domain/errors';
import { isValidName } from '../../domain/names';
import { ProcessDefinition } from '../../domain/process-definition';
import { parseProcessDefinition } from '../../schema/process-definition';
import { log } from '../../log';
import { ProcessDefinitionPage, ProcessDefinitionStore, StoredProcessDefinition } from '../../ports/process-definition-store';
import { setAside, SqliteDatabase } from './database';

interface Row {
  id: string;
  definition: string;
}

/**
 * The process-definition registry in SQLite: one row per definition, listed in the order first
 * stored (`position`), and the next generated id in `meta` so a deleted id is never handed out again.
 */
export class SqliteProcessDefinitionStore implements ProcessDefinitionStore {
  constructor(private readonly db: SqliteDatabase) {}

  async list(page: { limit?: number; offset: number }): Promise<ProcessDefinitionPage> {
    const total = (this.db.prepare('SELECT count(*) AS n FROM process_definitions').get() as { n: number }).n;
    const rows = this.db.prepare('SELECT id, definition FROM process_definitions ORDER BY position LIMIT ? OFFSET ?')
      .all(page.limit ?? -1, page.offset) as Row[];
    const items = rows.map((row) => this.read(row)).filter((item): item is StoredProcessDefinition => item !== undefined);
    return { total: total - (rows.length - items.length), items };
  }

  async get(id: string): Promise<ProcessDefinition | undefined> {
    const row = this.db.prepare('SELECT id, definition FROM process_definitions WHERE id = ?').get(id) as Row | undefined;
    return row ? this.read(row)?.definition : undefined;
  }

  async create(definition: ProcessDefinition): Promise<string> {
    return this.db.transaction(() => {
      let next = this.nextId();
      while (this.db.prepare('SELECT 1 FROM process_definitions WHERE id = ?').get(String(next))) next++;
      const id = String(next);
      this.insert(id, definition);
      this.setNextId(next + 1);
      return id;
    }).immediate();
  }

  async put(id: string, definition: ProcessDefinition): Promise<{ created: boolean }> {
    if (!isValidName(id) || id.length > 128) {
      throw new ValidationError('id', `'${id.slice(0, 128)}' is not a valid id ([A-Za-z0-9][A-Za-z0-9_.-]*, at most 128 characters)`);
    }
    return this.db.transaction(() => {
      const document = JSON.stringify(definition.document);
      const updated = this.db.prepare('UPDATE process_definitions SET definition = ? WHERE id = ?').run(document, id).changes > 0;
      if (!updated) this.insert(id, definition);
      if (/^\d{1,15}$/.test(id)) this.setNextId(Math.max(this.nextId(), Number(id) + 1));
      return { created: !updated };
    }).immediate();
  }

  async delete(id: string): Promise<boolean> {
    return this.db.prepare('DELETE FROM process_definitions WHERE id = ?').run(id).changes > 0;
  }

  /** Writes a whole registry (used by the import of the JSON-file layout). */
  importAll(nextId: number, items: { id: string; document: unknown }[]): void {
    for (const item of items) {
      this.db.prepare('INSERT OR REPLACE INTO process_definitions (id, position, definition) VALUES (?, (SELECT coalesce(max(position), 0) + 1 FROM process_definitions), ?)')
        .run(item.id, JSON.stringify(item.document));
    }
    this.setNextId(Math.max(this.nextId(), nextId));
  }

  private insert(id: string, definition: ProcessDefinition): void {
    this.db.prepare('INSERT INTO process_definitions (id, position, definition) VALUES (?, (SELECT coalesce(max(position), 0) + 1 FROM process_definitions), ?)')
      .run(id, JSON.stringify(definition.document));
  }

  private nextId(): number {
    const row = this.db.prepare("SELECT value FROM meta WHERE key = 'process_definitions.next_id'").get() as { value: string } | undefined;
    return row ? Number(row.value) : 1;
  }

  private setNextId(next: number): void {
    this.db.prepare("INSERT INTO meta (key, value) VALUES ('process_definitions.next_id', ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value")
      .run(String(next));
  }

  private read(row: Row): StoredProcessDefinition | undefined {
    try {
      return { id: row.id, definition: parseProcessDefinition(JSON.parse(row.definition), `process_definitions[${row.id}]`) };
    } catch (e) {
      log.warn({ id: row.id, err: (e as Error).message }, 'process definition is unreadable: set aside');
      this.db.transaction(() => {
        setAside(this.db, `process_definitions/${row.id}`, (e as Error).message, row.definition);
        this.db.prepare('DELETE FROM process_definitions WHERE id = ?').run(row.id);
      }).immediate();
      return undefined;
    }
  }
}

import { PoolClient } from 'pg';
import { ValidationError } from '../../domain/errors';
import { isValidName } from '../../domain/names';
import { ProcessDefinition } from '../../domain/process-definition';
import { parseProcessDefinition } from '../../schema/process-definition';
import { log } from '../../log';
import { ProcessDefinitionPage, ProcessDefinitionStore, StoredProcessDefinition } from '../../ports/process-definition-store';
import { PgDatabase, setAside } from './database';

interface Row {
  id: string;
  definition: string;
}

const NEXT_ID = 'process_definitions.next_id';

/**
 * The process-definition registry in PostgreSQL, as on SQLite: listed in the order first stored
 * (`position`), the next generated id in `meta` so a deleted id is never handed out again. Writes
 * that hand out an id or a position hold the `meta` row of the next id, one after the other.
 */
export class PgProcessDefinitionStore implements ProcessDefinitionStore {
  constructor(private readonly db: PgDatabase) {}

  async list(page: { limit?: number; offset: number }): Promise<ProcessDefinitionPage> {
    const total = Number((await this.db.query<{ n: string }>('SELECT count(*) AS n FROM process_definitions'))[0].n);
    const rows = await this.db.query<Row>('SELECT id, definition FROM process_definitions ORDER BY position LIMIT $1 OFFSET $2', [page.limit ?? null, page.offset]);
    const items: StoredProcessDefinition[] = [];
    for (const row of rows) {
      const item = await this.read(row);
      if (item) items.push(item);
    }
    return { total: total - (rows.length - items.length), items };
  }

  async get(id: string): Promise<ProcessDefinition | undefined> {
    const row = (await this.db.query<Row>('SELECT id, definition FROM process_definitions WHERE id = $1', [id]))[0];
    return row ? (await this.read(row))?.definition : undefined;
  }

  async create(definition: ProcessDefinition): Promise<string> {
    return this.db.write(async (c) => {
      let next = await lockNextId(c);
      while ((await c.query('SELECT 1 FROM process_definitions WHERE id = $1', [String(next)])).rowCount) next++;
      const id = String(next);
      await insert(c, id, definition);
      await c.query('UPDATE meta SET value = $1 WHERE key = $2', [String(next + 1), NEXT_ID]);
      return id;
    });
  }

  async put(id: string, definition: ProcessDefinition): Promise<{ created: boolean }> {
    if (!isValidName(id) || id.length > 128) {
      throw new ValidationError('id', `'${id.slice(0, 128)}' is not a valid id ([A-Za-z0-9][A-Za-z0-9_.-]*, at most 128 characters)`);
    }
    return this.db.write(async (c) => {
      const next = await lockNextId(c);
      const updated = ((await c.query('UPDATE process_definitions SET definition = $1 WHERE id = $2', [JSON.stringify(definition.document), id])).rowCount ?? 0) > 0;
      if (!updated) await insert(c, id, definition);
      if (/^\d{1,15}$/.test(id)) await c.query('UPDATE meta SET value = $1 WHERE key = $2', [String(Math.max(next, Number(id) + 1)), NEXT_ID]);
      return { created: !updated };
    });
  }

  async delete(id: string): Promise<boolean> {
    return this.db.write(async (c) => ((await c.query('DELETE FROM process_definitions WHERE id = $1', [id])).rowCount ?? 0) > 0);
  }

  private async read(row: Row): Promise<StoredProcessDefinition | undefined> {
    try {
      return { id: row.id, definition: parseProcessDefinition(JSON.parse(row.definition), `process_definitions[${row.id}]`) };
    } catch (e) {
      log.warn({ id: row.id, err: (e as Error).message }, 'process definition is unreadable: set aside');
      await setAside(this.db, `process_definitions/${row.id}`, (e as Error).message, row.definition, { sql: 'DELETE FROM process_definitions WHERE id = $1', params: [row.id] });
      return undefined;
    }
  }
}

/** The next generated id, its row locked until the transaction ends. */
async function lockNextId(c: PoolClient): Promise<number> {
  await c.query("INSERT INTO meta (key, value) VALUES ($1, '1') ON CONFLICT (key) DO NOTHING", [NEXT_ID]);
  return Number((await c.query('SELECT value FROM meta WHERE key = $1 FOR UPDATE', [NEXT_ID])).rows[0].value);
}

async function insert(c: PoolClient, id: string, definition: ProcessDefinition): Promise<void> {
  await c.query('INSERT INTO process_definitions (id, position, definition) VALUES ($1, (SELECT coalesce(max(position), 0) + 1 FROM process_definitions), $2)',
    [id, JSON.stringify(definition.document)]);
}

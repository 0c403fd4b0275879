import { log } from '../../log';
import { SystemRecord } from '../../domain/system';
import { SystemStore } from '../../ports/system-store';
import { normalise } from '../sqlite/sqlite-system-store';
import { PgDatabase, setAside } from './database';
import { insertTopology } from './pg-topology-store';

/**
 * Systems in PostgreSQL, one row each, as on SQLite: read into memory when opened (so `get` and
 * `list` never wait), every change a fenced write whose row lands before memory follows. A
 * system's start and delete write its row and the topology version in one transaction.
 */
export class PgSystemStore implements SystemStore {
  private readonly records = new Map<string, SystemRecord>();

  private constructor(private readonly db: PgDatabase) {}

  /** Reads every system (see `reload`). */
  static async open(db: PgDatabase): Promise<PgSystemStore> {
    const store = new PgSystemStore(db);
    await store.reload();
    return store;
  }

  /**
   * Reads every system again, replacing what memory held (another daemon may have led meanwhile).
   * A row that does not read is left out with a warning, and set aside when this daemon may write.
   */
  async reload(): Promise<void> {
    const rows = await this.db.query<{ sid: string; record: string }>('SELECT sid, record FROM systems ORDER BY created_at, sid');
    const records = new Map<string, SystemRecord>();
    for (const row of rows) {
      try {
        records.set(row.sid, normalise(JSON.parse(row.record) as SystemRecord));
      } catch (e) {
        log.warn({ sid: row.sid, err: (e as Error).message }, 'stored system is unreadable: set aside');
        await setAside(this.db, `systems/${row.sid}`, (e as Error).message, row.record, { sql: 'DELETE FROM systems WHERE sid = $1', params: [row.sid] })
          .catch(() => undefined);
      }
    }
    this.records.clear();
    for (const [sid, record] of records) this.records.set(sid, record);
  }

  list(): SystemRecord[] {
    return [...this.records.values()].sort((a, b) => a.created_at.localeCompare(b.created_at) || a.sid.localeCompare(b.sid));
  }

  get(sid: string): SystemRecord | undefined {
    return this.records.get(sid);
  }

  async save(record: SystemRecord): Promise<void> {
    const json = JSON.stringify(record);
    await this.db.write((c) => c.query(UPSERT, [record.sid, record.created_at, json]));
    this.records.set(record.sid, record);
  }

  async saveWithTopology(record: SystemRecord, topology: unknown): Promise<void> {
    const json = JSON.stringify(record);
    await this.db.write(async (c) => {
      await c.query(UPSERT, [record.sid, record.created_at, json]);
      await insertTopology(c, topology, 'apps');
    });
    this.records.set(record.sid, record);
  }

  async deleteWithTopology(sid: string, topology: unknown): Promise<void> {
    await this.db.write(async (c) => {
      await c.query('DELETE FROM systems WHERE sid = $1', [sid]);
      await insertTopology(c, topology, 'apps');
    });
    this.records.delete(sid);
  }

  async delete(sid: string): Promise<void> {
    await this.db.write((c) => c.query('DELETE FROM systems WHERE sid = $1', [sid]));
    this.records.delete(sid);
  }
}

const UPSERT = 'INSERT INTO systems (sid, created_at, record) VALUES ($1, $2, $3) ON CONFLICT (sid) DO UPDATE SET record = excluded.record';

import { log } from '../../log';
import { SystemRecord } from '../../domain/system';
import { SystemStore } from '../../ports/system-store';
import { setAside, SqliteDatabase } from './database';
import { insertTopology } from './sqlite-topology-store';

/**
 * Systems in SQLite, one row each, held in memory too so reads never wait. A row that does not read
 * is set aside with a warning and left out. A system's start and delete write its row and the
 * topology version in one transaction.
 */
export class SqliteSystemStore implements SystemStore {
  private readonly records = new Map<string, SystemRecord>();

  constructor(private readonly db: SqliteDatabase) {
    const rows = db.prepare('SELECT sid, record FROM systems ORDER BY created_at, sid').all() as { sid: string; record: string }[];
    for (const row of rows) {
      try {
        this.records.set(row.sid, normalise(JSON.parse(row.record) as SystemRecord));
      } catch (e) {
        log.warn({ sid: row.sid, err: (e as Error).message }, 'stored system is unreadable: set aside');
        db.transaction(() => {
          setAside(db, `systems/${row.sid}`, (e as Error).message, row.record);
          db.prepare('DELETE FROM systems WHERE sid = ?').run(row.sid);
        }).immediate();
      }
    }
  }

  list(): SystemRecord[] {
    return [...this.records.values()].sort((a, b) => a.created_at.localeCompare(b.created_at) || a.sid.localeCompare(b.sid));
  }

  get(sid: string): SystemRecord | undefined {
    return this.records.get(sid);
  }

  async save(record: SystemRecord): Promise<void> {
    this.write(record);
  }

  async saveWithTopology(record: SystemRecord, topology: unknown): Promise<void> {
    this.db.transaction(() => {
      this.write(record);
      insertTopology(this.db, topology, 'apps');
    }).immediate();
  }

  async deleteWithTopology(sid: string, topology: unknown): Promise<void> {
    this.db.transaction(() => {
      this.remove(sid);
      insertTopology(this.db, topology, 'apps');
    }).immediate();
  }

  async delete(sid: string): Promise<void> {
    this.remove(sid);
  }

  /** Writes the row; memory follows only once the row is written. */
  private write(record: SystemRecord): void {
    this.db.prepare('INSERT INTO systems (sid, created_at, record) VALUES (?, ?, ?) ON CONFLICT (sid) DO UPDATE SET record = excluded.record')
      .run(record.sid, record.created_at, JSON.stringify(record));
    this.records.set(record.sid, record);
  }

  private remove(sid: string): void {
    this.db.prepare('DELETE FROM systems WHERE sid = ?').run(sid);
    this.records.delete(sid);
  }
}

/** A record as stored by any version: the lists it may lack are empty. */
export function normalise(r: SystemRecord): SystemRecord {
  return { ...r, host_ports: r.host_ports ?? {}, execution_ids: r.execution_ids ?? [], warnings: r.warnings ?? [] };
}

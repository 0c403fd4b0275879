import { log } from '../../log';
import { TopologyStore } from '../../ports/state-store';
import { setAside, SqliteDatabase } from './database';

/** Every accepted topology as a new version; the newest is the one in force. */
export class SqliteTopologyStore implements TopologyStore {
  constructor(private readonly db: SqliteDatabase) {}

  async load(): Promise<unknown | undefined> {
    for (;;) {
      const row = this.db.prepare('SELECT version, document FROM topologies ORDER BY version DESC LIMIT 1').get() as { version: number; document: string } | undefined;
      if (!row) return undefined;
      try {
        return JSON.parse(row.document);
      } catch (e) {
        log.warn({ version: row.version, err: (e as Error).message }, 'stored topology is unreadable: set aside, using the one accepted before it');
        this.db.transaction(() => {
          setAside(this.db, `topologies/${row.version}`, (e as Error).message, row.document);
          this.db.prepare('DELETE FROM topologies WHERE version = ?').run(row.version);
        }).immediate();
      }
    }
  }

  async save(document: unknown): Promise<void> {
    this.db.prepare('INSERT INTO topologies (accepted_at, document) VALUES (?, ?)').run(new Date().toISOString(), JSON.stringify(document));
  }

  async history(limit: number): Promise<{ version: number; accepted_at: string; document: unknown }[]> {
    const rows = this.db.prepare('SELECT version, accepted_at, document FROM topologies ORDER BY version DESC LIMIT ?').all(limit) as { version: number; accepted_at: string; document: string }[];
    return rows.map((r) => ({ version: r.version, accepted_at: r.accepted_at, document: JSON.parse(r.document) as unknown }));
  }
}

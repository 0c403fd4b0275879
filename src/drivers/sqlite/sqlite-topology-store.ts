import { log } from '../../log';
import { RetentionPolicy } from '../../ports/execution-store';
import { TopologyMaker, TopologyStore } from '../../ports/state-store';
import { setAside, SqliteDatabase } from './database';

/**
 * Every accepted topology as a new version; the newest is the one in force. The history keeps the
 * versions users made: a version made by an app edit (a system started or deleted) is dropped as
 * soon as a newer version exists, so starting and deleting systems never grows the history.
 */
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

  async save(document: unknown, madeBy: TopologyMaker = 'user'): Promise<void> {
    insertTopology(this.db, document, madeBy);
  }

  async history(limit: number): Promise<{ version: number; accepted_at: string; made_by: TopologyMaker; document: unknown }[]> {
    const rows = this.db.prepare('SELECT version, accepted_at, made_by, document FROM topologies ORDER BY version DESC LIMIT ?').all(limit) as
      { version: number; accepted_at: string; made_by: TopologyMaker; document: string }[];
    return rows.map((r) => ({ version: r.version, accepted_at: r.accepted_at, made_by: r.made_by, document: JSON.parse(r.document) as unknown }));
  }

  /**
   * Drops the versions older than `olderThan` beyond the newest `keep`; the version in force stays,
   * however old.
   */
  async prune(policy: RetentionPolicy): Promise<number> {
    const newest = (this.db.prepare('SELECT max(version) AS v FROM topologies').get() as { v: number | null }).v;
    if (newest === null) return 0;
    const cutoff = (this.db.prepare('SELECT version FROM topologies ORDER BY version DESC LIMIT 1 OFFSET ?').get(Math.max(0, policy.keep - 1)) as { version: number } | undefined)?.version;
    if (cutoff === undefined) return 0;
    const result = this.db.prepare('DELETE FROM topologies WHERE version < ? AND version <> ? AND accepted_at < ?')
      .run(policy.keep <= 0 ? newest : cutoff, newest, policy.olderThan.toISOString());
    return result.changes;
  }
}

/**
 * Adds a version (inside the caller's transaction when there is one). App-made versions before it
 * are superseded by it and dropped.
 */
export function insertTopology(db: SqliteDatabase, document: unknown, madeBy: TopologyMaker): void {
  const { lastInsertRowid } = db.prepare('INSERT INTO topologies (accepted_at, made_by, document) VALUES (?, ?, ?)')
    .run(new Date().toISOString(), madeBy, JSON.stringify(document));
  db.prepare("DELETE FROM topologies WHERE made_by = 'apps' AND version < ?").run(lastInsertRowid);
}

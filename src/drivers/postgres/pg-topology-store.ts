import { log } from '../../log';
import { TopologyStore } from '../../ports/state-store';
import { PgDatabase, setAside } from './database';

/** Every accepted topology as a new version; the newest is the one in force (as on SQLite). */
export class PgTopologyStore implements TopologyStore {
  constructor(private readonly db: PgDatabase) {}

  async load(): Promise<unknown | undefined> {
    const skipped = new Set<number>();
    for (;;) {
      const rows = await this.db.query<{ version: string; document: string }>(
        'SELECT version, document FROM topologies WHERE NOT (version = ANY($1::bigint[])) ORDER BY version DESC LIMIT 1', [[...skipped]]);
      const row = rows[0];
      if (!row) return undefined;
      try {
        return JSON.parse(row.document);
      } catch (e) {
        log.warn({ version: Number(row.version), err: (e as Error).message }, 'stored topology is unreadable: set aside, using the one accepted before it');
        skipped.add(Number(row.version));
        await setAside(this.db, `topologies/${row.version}`, (e as Error).message, row.document, { sql: 'DELETE FROM topologies WHERE version = $1', params: [row.version] });
      }
    }
  }

  async save(document: unknown): Promise<void> {
    await this.db.write((c) => c.query('INSERT INTO topologies (accepted_at, document) VALUES ($1, $2)', [new Date().toISOString(), JSON.stringify(document)]));
  }

  async history(limit: number): Promise<{ version: number; accepted_at: string; document: unknown }[]> {
    const rows = await this.db.query<{ version: string; accepted_at: string; document: string }>(
      'SELECT version, accepted_at, document FROM topologies ORDER BY version DESC LIMIT $1', [limit]);
    return rows.map((r) => ({ version: Number(r.version), accepted_at: r.accepted_at, document: JSON.parse(r.document) as unknown }));
  }
}

import { PoolClient } from 'pg';
import { log } from '../../log';
import { RetentionPolicy } from '../../ports/execution-store';
import { TopologyMaker, TopologyStore } from '../../ports/state-store';
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

  /** A new version; app-made versions before it are superseded by it and dropped (as on SQLite). */
  async save(document: unknown, madeBy: TopologyMaker = 'user'): Promise<void> {
    await this.db.write((c) => insertTopology(c, document, madeBy));
  }

  async history(limit: number): Promise<{ version: number; accepted_at: string; made_by: TopologyMaker; document: unknown }[]> {
    const rows = await this.db.query<{ version: string; accepted_at: string; made_by: TopologyMaker; document: string }>(
      'SELECT version, accepted_at, made_by, document FROM topologies ORDER BY version DESC LIMIT $1', [limit]);
    return rows.map((r) => ({ version: Number(r.version), accepted_at: r.accepted_at, made_by: r.made_by, document: JSON.parse(r.document) as unknown }));
  }

  /** Drops the versions older than `olderThan` beyond the newest `keep`; the version in force stays, however old. */
  async prune(policy: RetentionPolicy): Promise<number> {
    const newest = (await this.db.query<{ v: string | null }>('SELECT max(version) AS v FROM topologies'))[0]?.v;
    if (newest === null || newest === undefined) return 0;
    const cutoff = (await this.db.query<{ version: string }>('SELECT version FROM topologies ORDER BY version DESC LIMIT 1 OFFSET $1', [Math.max(0, policy.keep - 1)]))[0]?.version;
    if (cutoff === undefined) return 0;
    return this.db.write(async (c) => (await c.query('DELETE FROM topologies WHERE version < $1 AND version <> $2 AND accepted_at < $3',
      [policy.keep <= 0 ? newest : cutoff, newest, policy.olderThan.toISOString()])).rowCount ?? 0);
  }
}

/** Adds a version inside the caller's transaction; app-made versions before it are superseded by it and dropped. */
export async function insertTopology(c: PoolClient, document: unknown, madeBy: TopologyMaker): Promise<void> {
  const inserted = await c.query<{ version: string }>('INSERT INTO topologies (accepted_at, made_by, document) VALUES ($1, $2, $3) RETURNING version',
    [new Date().toISOString(), madeBy, JSON.stringify(document)]);
  await c.query("DELETE FROM topologies WHERE made_by = 'apps' AND version < $1", [inserted.rows[0].version]);
}

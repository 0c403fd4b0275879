import { NodeState, NodeStateStore } from '../../ports/node-state-store';
import { PgDatabase } from './database';

/** The cordoned nodes in PostgreSQL, one row each (as on SQLite); a save replaces them all, fenced. */
export class PgNodeStateStore implements NodeStateStore {
  constructor(private readonly db: PgDatabase) {}

  async load(): Promise<NodeState> {
    const rows = await this.db.query<{ node: string }>('SELECT node FROM cordons ORDER BY node');
    return { cordoned: rows.map((r) => r.node) };
  }

  async save(state: NodeState): Promise<void> {
    await this.db.write(async (c) => {
      await c.query('DELETE FROM cordons');
      await c.query('INSERT INTO cordons (node) SELECT DISTINCT unnest($1::text[]) ON CONFLICT DO NOTHING', [state.cordoned]);
    });
  }
}

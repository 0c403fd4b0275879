import { NodeState, NodeStateStore } from '../../ports/node-state-store';
import { SqliteDatabase } from './database';

/** The cordoned nodes, one row each. */
export class SqliteNodeStateStore implements NodeStateStore {
  constructor(private readonly db: SqliteDatabase) {}

  async load(): Promise<NodeState> {
    const rows = this.db.prepare('SELECT node FROM cordons ORDER BY node').all() as { node: string }[];
    return { cordoned: rows.map((r) => r.node) };
  }

  async save(state: NodeState): Promise<void> {
    this.db.transaction(() => {
      this.db.prepare('DELETE FROM cordons').run();
      const insert = this.db.prepare('INSERT OR IGNORE INTO cordons (node) VALUES (?)');
      for (const node of state.cordoned) insert.run(node);
    }).immediate();
  }
}

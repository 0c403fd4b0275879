import { openDatabase, SqliteDatabase } from './database';
import { importEarlierState, ImportResult } from './import-json-state';
import { StateLease } from './lease';
import { SqliteExecutionStore } from './sqlite-execution-store';
import { SqliteJobStore } from './sqlite-job-store';
import { SqliteNodeStateStore } from './sqlite-node-state-store';
import { SqliteProcessDefinitionStore } from './sqlite-process-definition-store';
import { SqliteSystemStore } from './sqlite-system-store';
import { SqliteTopologyStore } from './sqlite-topology-store';

export interface SqliteState {
  db: SqliteDatabase;
  executions: SqliteExecutionStore;
  processDefinitions: SqliteProcessDefinitionStore;
  topologies: SqliteTopologyStore;
  systems: SqliteSystemStore;
  jobs: SqliteJobStore;
  /** Cordons. */
  nodeStates: SqliteNodeStateStore;
  lease: StateLease;
  /** What was imported from the JSON-file layout at this start, if anything. */
  imported?: ImportResult;
  /** Answers whether the database still reads (for `/readyz`). */
  check(): void;
  close(): void;
}

/**
 * Opens the state dir's database, takes the lease (throws LeaseHeldError when another daemon holds
 * it) and imports the JSON-file layout on first start (and `systems.json` / `nodes.json`, which
 * outlived it, on the first start that finds them).
 */
export async function openSqliteState(stateDir: string): Promise<SqliteState> {
  const { db } = openDatabase(stateDir);
  const lease = new StateLease(db, stateDir);
  try {
    lease.acquire();
  } catch (e) {
    db.close();
    throw e;
  }
  try {
    const imported = await importEarlierState(db, stateDir);
    return {
      db,
      executions: new SqliteExecutionStore(db),
      processDefinitions: new SqliteProcessDefinitionStore(db),
      topologies: new SqliteTopologyStore(db),
      systems: new SqliteSystemStore(db),
      jobs: new SqliteJobStore(db),
      nodeStates: new SqliteNodeStateStore(db),
      lease,
      imported,
      check: () => { db.prepare('SELECT 1').get(); },
      close: () => {
        lease.release();
        db.close();
      },
    };
  } catch (e) {
    lease.release();
    db.close();
    throw e;
  }
}

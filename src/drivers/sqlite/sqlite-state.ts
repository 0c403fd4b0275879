import { openDatabase, SqliteDatabase } from './database';
import { importJsonState, ImportResult } from './import-json-state';
import { StateLease } from './lease';
import { SqliteExecutionStore } from './sqlite-execution-store';
import { SqliteProcessDefinitionStore } from './sqlite-process-definition-store';
import { SqliteTopologyStore } from './sqlite-topology-store';

export interface SqliteState {
  db: SqliteDatabase;
  executions: SqliteExecutionStore;
  processDefinitions: SqliteProcessDefinitionStore;
  topologies: SqliteTopologyStore;
  lease: StateLease;
  /** What was imported from the JSON-file layout at this start, if anything. */
  imported?: ImportResult;
  /** Answers whether the database still reads (for `/readyz`). */
  check(): void;
  close(): void;
}

/**
 * Opens the state dir's database, takes the lease (throws LeaseHeldError when another daemon holds
 * it) and imports the JSON-file layout on first start.
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
    const imported = await importJsonState(db, stateDir);
    return {
      db,
      executions: new SqliteExecutionStore(db),
      processDefinitions: new SqliteProcessDefinitionStore(db),
      topologies: new SqliteTopologyStore(db),
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

import { openPgDatabase, PgDatabase } from './database';
import { LeaseOptions, PgLease } from './pg-lease';
import { PgExecutionStore } from './pg-execution-store';
import { PgProcessDefinitionStore } from './pg-process-definition-store';
import { PgTopologyStore } from './pg-topology-store';
import { PgNodeStateStore } from './pg-node-state-store';
import { PgSystemStore } from './pg-system-store';
import { importStateDirSystems } from './import-state-dir';

export interface PgState {
  db: PgDatabase;
  executions: PgExecutionStore;
  processDefinitions: PgProcessDefinitionStore;
  topologies: PgTopologyStore;
  /** Cordons. */
  nodeStates: PgNodeStateStore;
  lease: PgLease;
  /**
   * Systems, read once this daemon leads (they are served from memory): first the one import of a
   * state dir's systems and cordons of the earlier layout, when the database is marked for it.
   */
  openSystems(stateDir: string): Promise<PgSystemStore>;
  /** Throws when the database did not answer the lease's last round (for `/readyz`). */
  check(): void;
  close(): Promise<void>;
}

/**
 * Opens the state on PostgreSQL (migrating it) and its lease. Writes are fenced from the start:
 * refused until this daemon leads, then carrying its epoch. The lease is not started here.
 */
export async function openPostgresState(url: string, options: LeaseOptions = {}): Promise<PgState> {
  const db = await openPgDatabase(url);
  const lease = new PgLease(url, db, options);
  return {
    db,
    executions: new PgExecutionStore(db),
    processDefinitions: new PgProcessDefinitionStore(db),
    topologies: new PgTopologyStore(db),
    nodeStates: new PgNodeStateStore(db),
    lease,
    openSystems: async (stateDir) => {
      await importStateDirSystems(db, stateDir);
      return PgSystemStore.open(db);
    },
    check: () => {
      if (lease.lastError) throw new Error(`the PostgreSQL state database does not answer: ${lease.lastError}`);
    },
    close: async () => {
      await lease.stop();
      await db.close();
    },
  };
}

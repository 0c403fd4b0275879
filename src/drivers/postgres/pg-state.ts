import { openPgDatabase, PgDatabase } from './database';
import { DEFAULT_LEASE_S, LeaseOptions, PgLease } from './pg-lease';
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
  // A write transaction never idles between its statements for long: one that does (its process
  // paused) is ended well before a standby would take over.
  const db = await openPgDatabase(url, { idleInTransactionMs: Math.max(1_000, Math.round(((options.leaseS ?? DEFAULT_LEASE_S) * 1000) / 3)) });
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

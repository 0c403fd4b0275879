import { openPgDatabase, PgDatabase } from './database';
import { DEFAULT_LEASE_S, LeaseOptions, PgLease } from './pg-lease';
import { PgExecutionStore } from './pg-execution-store';
import { PgJobStore } from './pg-job-store';
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
  jobs: PgJobStore;
  /** Cordons. */
  nodeStates: PgNodeStateStore;
  lease: PgLease;
  /** Systems, served from memory: read again at each change of role (`readSystems`). */
  systems: PgSystemStore;
  /**
   * Reads the systems again; as the leader, first the one import of a state dir's systems and
   * cordons of the earlier layout, when the database is marked for it (a fenced write).
   */
  readSystems(role: 'leader' | 'standby', stateDir: string): Promise<void>;
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
  const systems = await PgSystemStore.open(db);
  return {
    db,
    executions: new PgExecutionStore(db),
    processDefinitions: new PgProcessDefinitionStore(db),
    topologies: new PgTopologyStore(db),
    jobs: new PgJobStore(db),
    nodeStates: new PgNodeStateStore(db),
    lease,
    systems,
    readSystems: async (role, stateDir) => {
      if (role === 'leader') await importStateDirSystems(db, stateDir);
      await systems.reload();
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

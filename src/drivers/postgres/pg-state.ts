import { openPgDatabase, PgDatabase } from './database';
import { LeaseOptions, PgLease } from './pg-lease';
import { PgExecutionStore } from './pg-execution-store';
import { PgJobStore } from './pg-job-store';
import { PgProcessDefinitionStore } from './pg-process-definition-store';
import { PgTopologyStore } from './pg-topology-store';

export interface PgState {
  db: PgDatabase;
  executions: PgExecutionStore;
  processDefinitions: PgProcessDefinitionStore;
  topologies: PgTopologyStore;
  jobs: PgJobStore;
  lease: PgLease;
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
    jobs: new PgJobStore(db),
    lease,
    check: () => {
      if (lease.lastError) throw new Error(`the PostgreSQL state database does not answer: ${lease.lastError}`);
    },
    close: async () => {
      await lease.stop();
      await db.close();
    },
  };
}

import * as path from 'path';
import { DAEMON_DEFAULTS, DaemonConfig } from '../config';
import { ExecutionStore } from '../ports/execution-store';
import { JobStore } from '../ports/job-store';
import { ProcessDefinitionStore } from '../ports/process-definition-store';
import { TopologyStore } from '../ports/state-store';
import { SystemStore } from '../ports/system-store';
import { NodeStateStore } from '../ports/node-state-store';
import { log } from '../log';
import type { PgLease } from './postgres/pg-lease';
import type { PgEventChannel } from './postgres/pg-event-channel';
import type { ImportResult } from './sqlite/import-json-state';

/** The daemon's state, whichever database holds it. */
export interface DaemonState {
  backend: 'sqlite' | 'postgres';
  executions: ExecutionStore;
  processDefinitions: ProcessDefinitionStore;
  topologies: TopologyStore;
  /** Systems and cordons. */
  systems: SystemStore;
  nodeStates: NodeStateStore;
  /** Job templates, jobs and their logs, in the same database as the executions. */
  jobs: JobStore;
  /** On PostgreSQL: the leader's lease, not started yet (this daemon leads while it holds it). */
  lease?: PgLease;
  /** On PostgreSQL: the events' channel between the daemons, and the name of their shared stream of event ids. */
  channel?: PgEventChannel;
  eventStream?: string;
  /**
   * On PostgreSQL: reads again what is served from memory (systems), at each change of role; as the
   * leader, first imports what a state dir of the earlier layout holds, once.
   */
  readAgain?(role: 'leader' | 'standby'): Promise<void>;
  /** What was imported from the JSON-file layout at this start (SQLite only). */
  imported?: ImportResult;
  /** Throws when the database does not answer (for `/readyz`). */
  check(): void;
  close(): Promise<void>;
}

/**
 * The state dir's SQLite file, or PostgreSQL when `databaseUrl` is given. On PostgreSQL the stores
 * read at once, whoever leads; writes are refused until this daemon leads (the lease, which the
 * caller starts).
 */
export async function openState(
  config: Pick<DaemonConfig, 'stateDir'> & Partial<Pick<DaemonConfig, 'databaseUrl' | 'leaseS' | 'advertiseUrl'>>,
): Promise<DaemonState> {
  if (!config.databaseUrl) {
    const { openSqliteState } = await import('./sqlite/sqlite-state');
    const state = await openSqliteState(path.resolve(config.stateDir));
    return {
      backend: 'sqlite', executions: state.executions, processDefinitions: state.processDefinitions, topologies: state.topologies,
      systems: state.systems, nodeStates: state.nodeStates, jobs: state.jobs,
      imported: state.imported, check: () => state.check(), close: async () => state.close(),
    };
  }
  const { openPostgresState } = await import('./postgres/pg-state');
  const state = await openPostgresState(config.databaseUrl, { leaseS: config.leaseS ?? DAEMON_DEFAULTS.leaseS, advertiseUrl: config.advertiseUrl });
  const { PgEventChannel, sharedStreamName } = await import('./postgres/pg-event-channel');
  let eventStream: string;
  try {
    eventStream = await sharedStreamName(state.db.pool);
  } catch (e) {
    await state.close();
    throw e;
  }
  log.info({ holder: state.lease.holder }, 'state in PostgreSQL: standing by until this daemon takes the lease');
  return {
    backend: 'postgres', executions: state.executions, processDefinitions: state.processDefinitions, topologies: state.topologies,
    systems: state.systems, nodeStates: state.nodeStates, jobs: state.jobs,
    lease: state.lease, channel: new PgEventChannel(config.databaseUrl, state.db.pool, () => state.db.currentFence), eventStream, check: () => state.check(),
    readAgain: (role) => state.readSystems(role, path.resolve(config.stateDir)),
    close: () => state.close(),
  };
}

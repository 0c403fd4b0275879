import * as path from 'path';
import { DAEMON_DEFAULTS, DaemonConfig } from '../config';
import { ExecutionStore } from '../ports/execution-store';
import { ProcessDefinitionStore } from '../ports/process-definition-store';
import { TopologyStore } from '../ports/state-store';
import { SystemStore } from '../ports/system-store';
import { NodeStateStore } from '../ports/node-state-store';
import { log } from '../log';
import type { PgLease } from './postgres/pg-lease';
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
  /** On PostgreSQL: the leader's lease this daemon holds (it leads when `openState` resolves). */
  lease?: PgLease;
  /** What was imported from the JSON-file layout at this start (SQLite only). */
  imported?: ImportResult;
  /** Throws when the database does not answer (for `/readyz`). */
  check(): void;
  close(): Promise<void>;
}

/**
 * The state dir's SQLite file, or PostgreSQL when `databaseUrl` is given. On PostgreSQL this
 * resolves once this daemon leads: until then it stands by, trying to take the lease.
 */
export async function openState(
  config: Pick<DaemonConfig, 'stateDir'> & Partial<Pick<DaemonConfig, 'databaseUrl' | 'leaseS' | 'advertiseUrl'>>,
  /** Called once, before standing by, with the lease (to answer as a standby meanwhile). */
  options: { whileStandingBy?: (lease: PgLease) => void } = {},
): Promise<DaemonState> {
  if (!config.databaseUrl) {
    const { openSqliteState } = await import('./sqlite/sqlite-state');
    const state = await openSqliteState(path.resolve(config.stateDir));
    return {
      backend: 'sqlite', executions: state.executions, processDefinitions: state.processDefinitions, topologies: state.topologies,
      systems: state.systems, nodeStates: state.nodeStates,
      imported: state.imported, check: () => state.check(), close: async () => state.close(),
    };
  }
  const { openPostgresState } = await import('./postgres/pg-state');
  const state = await openPostgresState(config.databaseUrl, { leaseS: config.leaseS ?? DAEMON_DEFAULTS.leaseS, advertiseUrl: config.advertiseUrl });
  options.whileStandingBy?.(state.lease);
  state.lease.start();
  if (!state.lease.currentFence) log.info({ holder: state.lease.holder }, 'standing by: another daemon leads, or the lease is being taken');
  try {
    await state.lease.waitUntilLeading();
  } catch (e) {
    await state.close();
    throw e;
  }
  let systems;
  try {
    systems = await state.openSystems(path.resolve(config.stateDir));
  } catch (e) {
    await state.close();
    throw e;
  }
  return {
    backend: 'postgres', executions: state.executions, processDefinitions: state.processDefinitions, topologies: state.topologies,
    systems, nodeStates: state.nodeStates,
    lease: state.lease, check: () => state.check(), close: () => state.close(),
  };
}

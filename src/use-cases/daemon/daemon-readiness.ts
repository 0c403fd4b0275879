import { errorMessage } from '../../domain/errors';
import { Knowledge } from '../cluster/knowledge';

/** One check of `/readyz`. */
export interface Check {
  ok: boolean;
  detail?: string;
}

/** What the topology restore tells readiness. */
export interface RestoreProgress {
  /** True while a failed attempt waits for its retry. */
  readonly retrying: boolean;
  /** The last attempt's error, while retrying. */
  readonly lastError?: string;
}

/**
 * The daemon's readiness (SPEC §7): the database answers, executions a stopped daemon left are
 * recovered, the topology (if any) is in force, and plans are taken. Unreachable nodes are named but
 * do not make the daemon unready: plans are still taken around them (SPEC §8).
 */
export class DaemonReadiness {
  private recovered = false;
  private restoreAttempted = false;
  private stopping = false;

  constructor(
    private readonly knowledge: Knowledge,
    private readonly restore: RestoreProgress,
    private readonly checkDatabase: () => void,
  ) {}

  executionsRecovered(): void { this.recovered = true; }
  topologyRestoreAttempted(): void { this.restoreAttempted = true; }
  shuttingDown(): void { this.stopping = true; }
  get acceptingPlans(): boolean { return !this.stopping; }

  checks(): Record<string, Check> {
    let database: Check = { ok: true };
    try { this.checkDatabase(); } catch (e) { database = { ok: false, detail: errorMessage(e) }; }
    const topology: Check = this.knowledge.deployment !== undefined ? { ok: true, detail: 'in force' }
      : !this.restoreAttempted ? { ok: false, detail: 'being restored' }
      : this.restore.retrying ? { ok: false, detail: `not restored yet: ${this.restore.lastError ?? 'unknown error'}` }
      : { ok: true, detail: 'no topology yet' };
    const down = this.knowledge.nodes.unreachable();
    return {
      database,
      executions_recovered: { ok: this.recovered },
      topology,
      accepting_plans: this.stopping ? { ok: false, detail: 'shutting down' } : { ok: true },
      nodes: { ok: true, detail: down.length === 0 ? 'every node ready' : `unreachable: ${down.join(', ')}` },
    };
  }
}

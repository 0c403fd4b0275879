import { errorMessage } from '../../domain/errors';
import { log } from '../../log';
import { ExecutionStore } from '../../ports/execution-store';
import { JobStore } from '../../ports/job-store';
import { TopologyStore } from '../../ports/state-store';

const DAY_MS = 86_400_000;

export interface RetentionSettings {
  /** Finished executions older than this many days… */
  days: number;
  /** …beyond the newest `count` finished ones are pruned. Unfinished executions never are. */
  count: number;
}

/**
 * Prunes the execution history at start and then daily (SPEC §7), and the topology history by the
 * same rule (the version in force is never pruned). A failing prune is logged, never fatal.
 */
export class ExecutionRetention {
  private timer?: NodeJS.Timeout;

  constructor(
    private readonly store: Pick<ExecutionStore, 'prune'>,
    private readonly settings: RetentionSettings,
    private readonly everyMs = DAY_MS,
    private readonly topologies?: Pick<TopologyStore, 'prune'>,
    /** Finished jobs go by the same rule (SPEC §10); unfinished ones never. */
    private readonly jobs?: Pick<JobStore, 'prune'>,
  ) {}

  async pruneNow(now = Date.now()): Promise<number> {
    try {
      const policy = { keep: this.settings.count, olderThan: new Date(now - this.settings.days * DAY_MS) };
      const pruned = await this.store.prune(policy);
      if (pruned > 0) log.info({ pruned, ...this.settings }, 'pruned finished executions past retention');
      const versions = (await this.topologies?.prune?.(policy)) ?? 0;
      if (versions > 0) log.info({ pruned: versions, ...this.settings }, 'pruned topology versions past retention');
      const jobs = (await this.jobs?.prune(policy)) ?? 0;
      if (jobs > 0) log.info({ pruned: jobs, ...this.settings }, 'pruned finished jobs past retention');
      return pruned;
    } catch (e) {
      log.error({ err: errorMessage(e) }, 'pruning executions failed');
      return 0;
    }
  }

  start(): void {
    this.stop();
    this.timer = setInterval(() => void this.pruneNow(), this.everyMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }
}

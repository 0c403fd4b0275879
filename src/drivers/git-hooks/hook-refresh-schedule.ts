import cron, { ScheduledTask } from 'node-cron';
import { isCronExpression } from '../../domain/cron-expression';
import { ValidationError } from '../../domain/errors';
import { redactUrlSecrets } from '../../domain/redact';
import { log } from '../../log';

export interface ScheduleLogger {
  warn(message: string): void;
}

/**
 * Pulls the hooks repository again on a cron schedule (`infrastructure.hooks_refresh`, five or six
 * fields as node-cron reads them, e.g. `*\/5 * * * *`).
 *
 * A refresh that is still running when the next tick comes is not doubled: the tick is skipped. A
 * failing refresh is logged and the schedule goes on; the hooks in force stay as they were.
 */
export class HookRefreshSchedule {
  private task: ScheduledTask | undefined;
  private running: Promise<void> | undefined;

  constructor(private readonly logger: ScheduleLogger = { warn: (m) => log.warn(redactUrlSecrets(m)) }) {}

  /** Throws a ValidationError (infrastructure.hooks_refresh) for an expression node-cron does not accept. */
  static validate(cronExpr: string): void {
    if (!isCronExpression(cronExpr)) {
      throw new ValidationError('infrastructure.hooks_refresh', `'${cronExpr}' is not a cron expression (e.g. '*/5 * * * *')`);
    }
  }

  /** Replaces any schedule started before. */
  start(cronExpr: string, refresh: () => Promise<void>): void {
    HookRefreshSchedule.validate(cronExpr);
    this.cancelTask();
    this.task = cron.schedule(cronExpr, () => this.tick(refresh), {
      name: 'hooks-refresh',
      noOverlap: true,
      // A skipped tick is the intended behaviour, not news; node-cron's own errors still reach the log.
      logger: {
        info: () => undefined,
        warn: () => undefined,
        debug: () => undefined,
        error: (m: string | Error) => this.logger.warn(`hooks refresh schedule: ${m instanceof Error ? m.message : m}`),
      },
    });
  }

  /** Stops the schedule; resolves once a refresh that was running has finished. */
  async stop(): Promise<void> {
    this.cancelTask();
    await this.running;
  }

  isRunning(): boolean {
    return this.running !== undefined;
  }

  private tick(refresh: () => Promise<void>): Promise<void> {
    // node-cron's noOverlap covers its own ticks; this guard also holds across a restart of the schedule.
    if (this.running) return this.running;
    const run = (async () => {
      try {
        await refresh();
      } catch (err) {
        this.logger.warn(`hooks refresh failed, keeping the hooks in force: ${(err as Error).message ?? String(err)}`);
      }
    })();
    this.running = run.finally(() => {
      this.running = undefined;
    });
    return this.running;
  }

  private cancelTask(): void {
    if (!this.task) return;
    void this.task.destroy();
    this.task = undefined;
  }
}

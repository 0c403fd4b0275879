import { errorMessage } from '../../domain/errors';
import { log } from '../../log';

/**
 * A pass run every `intervalMs` in the background: one still running when the next is due is not
 * doubled, and one that fails is logged (`name: message`), never thrown, the next coming at its time.
 * The timer keeps no process alive.
 */
export class PeriodicPass {
  private timer?: NodeJS.Timeout;
  private running?: Promise<unknown>;

  constructor(private readonly name: string, private readonly pass: () => Promise<unknown>) {}

  /** (Re)starts it; an interval of 0 or less stops it. */
  start(intervalMs: number): void {
    this.stop();
    if (intervalMs <= 0) return;
    this.timer = setInterval(() => {
      if (this.running) return;
      this.running = this.pass()
        .catch((e) => log.error(`${this.name}: ${errorMessage(e)}`))
        .finally(() => { this.running = undefined; });
    }, intervalMs);
    this.timer.unref();
  }

  /** No pass starts after this; one under way goes on (see `settled`). */
  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  /** Resolves when no pass is under way. */
  async settled(): Promise<void> {
    await this.running;
  }
}

import { errorMessage, ValidationError } from '../../domain/errors';
import { log } from '../../log';
import { Knowledge, Services } from '../cluster/knowledge';
import { loadTopology } from './load-topology';
import { SerialQueue } from '../execution/serial-queue';

export const RETRY_TOPOLOGY_MS = 15_000;

export interface RestoreOptions {
  /** The document to start from when the state directory holds none (`--topology FILE`). */
  initialDocument?: () => Promise<unknown>;
  retryMs?: number;
  log?: { info(message: string): void; error(message: string): void };
}

/**
 * Puts the persisted topology back in force at start, rebuilding the cluster from the engines. An
 * engine that is down is retried every `retryMs`, not fatal; a topology put over HTTP meanwhile
 * wins (the restore then does nothing), whichever finishes first on the queue.
 */
export class TopologyRestore {
  private timer?: NodeJS.Timeout;
  private closed = false;
  private error?: string;
  private readonly retryMs: number;
  private readonly log: NonNullable<RestoreOptions['log']>;

  constructor(
    private readonly knowledge: Knowledge,
    private readonly services: Services,
    private readonly queue: SerialQueue,
    private readonly options: RestoreOptions = {},
  ) {
    this.retryMs = options.retryMs ?? RETRY_TOPOLOGY_MS;
    this.log = options.log ?? { info: (m) => log.info(m), error: (m) => log.error(m) };
  }

  /**
   * From now until the restore settles, requests that need the topology are answered 503 "starting"
   * (with Retry-After) instead of 409 "no topology is loaded": the composition root calls this
   * before the port opens.
   */
  begin(): void {
    this.knowledge.restorePending('the persisted topology is being restored');
  }

  /** One attempt; a failure schedules the next. Resolves when this attempt is over. */
  async run(): Promise<void> {
    this.timer = undefined;
    let retry = false;
    try {
      retry = await this.attempt();
    } finally {
      if (!retry) this.knowledge.restoreSettled();
    }
  }

  /** True when the attempt failed in a way a later one may not (an engine down): a retry is scheduled. */
  private async attempt(): Promise<boolean> {
    const persisted = await this.services.topologies.load();
    const document = persisted ?? (await this.options.initialDocument?.());
    if (document === undefined || this.closed || this.knowledge.deployment) return false;
    const options = persisted === undefined ? { persist: true } : { persist: false, restoring: true };
    try {
      const topology = await this.queue.run(() =>
        (this.knowledge.deployment ? Promise.resolve(undefined) : loadTopology(this.knowledge, this.services, document, options)));
      if (topology) {
        this.log.info(`topology restored: ${topology.apps.map((a) => a.name).join(', ')}; ${Object.keys(this.knowledge.requireDeployment().cluster).length} vm(s)`);
      }
      return false;
    } catch (e) {
      if (this.closed) return false;
      // A document that does not read will not read any better later: say so once, and wait for a PUT.
      if (e instanceof ValidationError) {
        this.log.error(`the persisted topology is refused, none is in force until one is PUT: ${errorMessage(e)}`);
        return false;
      }
      this.error = errorMessage(e);
      this.log.error(`restoring the topology failed (retrying in ${this.retryMs / 1000} s): ${errorMessage(e)}`);
      this.knowledge.restorePending(`the persisted topology is not restored yet (${this.error}); retrying every ${this.retryMs / 1000} s`,
        Math.max(1, Math.ceil(this.retryMs / 1000)));
      this.timer = setTimeout(() => void this.run(), this.retryMs);
      this.timer.unref();
      return true;
    }
  }

  /** The failure a waiting retry follows. */
  get lastError(): string | undefined {
    return this.timer !== undefined ? this.error : undefined;
  }

  /** True while a retry is waiting. */
  get retrying(): boolean {
    return this.timer !== undefined;
  }

  close(): void {
    this.closed = true;
    this.knowledge.restoreSettled();
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }
}

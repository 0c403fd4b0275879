import { errorMessage } from '../../domain/errors';
import { log } from '../../log';
import { Knowledge, Services } from '../cluster/knowledge';
import { observeDeployment, ObservingServices } from '../cluster/observe-deployment';

export interface StandbyViewOptions {
  /** How often the topology in the database is compared with the one shown (a cheap read). */
  topologyCheckMs?: number;
  /** How often the engines are read again although nothing was heard of a change. */
  fleetEveryMs?: number;
}

/**
 * What a standby shows of the fleet (SPEC §12), kept fresh without acting: every `topologyCheckMs`
 * the topology in the database is compared with the one shown; the cloud and the engines are read
 * again (observe-deployment.ts) when it changed, when the leader's events say an execution finished
 * or a node changed (`changed`), and every `fleetEveryMs` in any case. One reading at a time; a
 * change heard meanwhile makes one more. A reading that fails keeps the view as it was (logged).
 */
export class StandbyView {
  private timer?: NodeJS.Timeout;
  private reading?: Promise<void>;
  private again = false;
  private stopped = false;
  private shown?: string;
  private readAtMs = 0;
  private lastError?: string;
  private readonly topologyCheckMs: number;
  private readonly fleetEveryMs: number;

  constructor(
    private readonly knowledge: Knowledge,
    private readonly services: ObservingServices & Pick<Services, 'topologies' | 'nodeStates'>,
    options: StandbyViewOptions = {},
  ) {
    this.topologyCheckMs = options.topologyCheckMs ?? 2_000;
    this.fleetEveryMs = options.fleetEveryMs ?? 30_000;
  }

  /** Reads at once, then keeps reading until `stop`. Resolves after the first reading. */
  start(): Promise<void> {
    this.knowledge.restorePending('this standby is reading the topology and the fleet');
    return this.read(true);
  }

  /** The leader changed the fleet (an execution finished, a node's health or cordon changed): read it again. */
  changed(): void {
    void this.read(true);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.reading?.catch(() => undefined);
  }

  private read(fleet: boolean): Promise<void> {
    if (this.stopped) return Promise.resolve();
    if (this.reading) {
      this.again ||= fleet;
      return this.reading;
    }
    if (this.timer) clearTimeout(this.timer);
    this.reading = this.readOnce(fleet).finally(() => {
      this.reading = undefined;
      if (this.stopped) return;
      const again = this.again;
      this.again = false;
      if (again) void this.read(true);
      else this.schedule();
    });
    return this.reading;
  }

  private schedule(): void {
    this.timer = setTimeout(() => void this.read(performance.now() - this.readAtMs >= this.fleetEveryMs), this.topologyCheckMs);
    this.timer.unref();
  }

  private async readOnce(fleet: boolean): Promise<void> {
    try {
      const cordons = await this.services.nodeStates?.load();
      if (cordons) this.knowledge.nodes.setCordons(cordons.cordoned);
      const document = await this.services.topologies.load();
      if (document === undefined) {
        this.knowledge.restoreSettled();
        return;
      }
      const text = JSON.stringify(document);
      if (!fleet && text === this.shown && this.knowledge.deployment) return;
      await observeDeployment(this.knowledge, this.services, document);
      this.shown = text;
      this.readAtMs = performance.now();
      this.knowledge.restoreSettled();
      this.lastError = undefined;
    } catch (e) {
      const message = errorMessage(e);
      if (message !== this.lastError) log.warn({ err: message }, 'a standby could not read the topology or the fleet; it shows what it read before');
      this.lastError = message;
      if (!this.knowledge.deployment) this.knowledge.restorePending(`this standby cannot read the fleet yet: ${message}`, 2);
    }
  }
}

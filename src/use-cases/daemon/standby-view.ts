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
 * What a standby shows of the fleet (SPEC §12), read without acting and only when asked: a standby
 * touches the engines and the cloud only to answer a read that shows the fleet (`fresh`, called
 * before such a route answers), never by itself. A daemon that stops leading and stands by so makes
 * no engine call at all until someone reads the fleet from it, and standbys put no load on the
 * engines. Before a read, the topology in the database is compared with the one shown (a cheap read,
 * at most every `topologyCheckMs`); the cloud and the engines are read again (observe-deployment.ts)
 * when it changed, when the leader's events said an execution finished or a node changed
 * (`changed`), or when the last reading is older than `fleetEveryMs`. One reading at a time; a read
 * that fails keeps the view as it was (logged).
 */
export class StandbyView {
  private reading?: Promise<void>;
  private stale = true;
  private stopped = false;
  private shown?: string;
  private readAtMs = Number.NEGATIVE_INFINITY;
  private checkedAtMs = Number.NEGATIVE_INFINITY;
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

  /** Shows "reading" until the first read asks for the fleet; reads nothing by itself. */
  start(): Promise<void> {
    this.knowledge.restorePending('this standby reads the topology and the fleet when first asked');
    return Promise.resolve();
  }

  /** The leader changed the fleet (an execution finished, a node's health or cordon changed): the next read reads it again. */
  changed(): void {
    this.stale = true;
  }

  /** Brings the view up to date for a read that shows the fleet (see the class comment). */
  fresh(): Promise<void> {
    if (this.stopped) return Promise.resolve();
    if (this.reading) return this.reading;
    const now = performance.now();
    const fleet = this.stale || !this.knowledge.deployment || now - this.readAtMs >= this.fleetEveryMs;
    if (!fleet && now - this.checkedAtMs < this.topologyCheckMs) return Promise.resolve();
    this.stale = false;
    this.reading = this.readOnce(fleet).finally(() => { this.reading = undefined; });
    return this.reading;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.reading?.catch(() => undefined);
  }

  private async readOnce(fleet: boolean): Promise<void> {
    try {
      this.checkedAtMs = performance.now();
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
      this.stale = true;
      const message = errorMessage(e);
      if (message !== this.lastError) log.warn({ err: message }, 'a standby could not read the topology or the fleet; it shows what it read before');
      this.lastError = message;
      if (!this.knowledge.deployment) this.knowledge.restorePending(`this standby cannot read the fleet yet: ${message}`, 2);
    }
  }
}

import { HealthChange } from '../../domain/node-pool';
import { errorMessage } from '../../domain/errors';
import { watchCloud } from '../cluster/cloud-watch';
import { Knowledge, Services } from '../cluster/knowledge';
import { containerStatesOf, readVm } from '../cluster/observe-cluster';
import { SerialQueue } from '../execution/serial-queue';
import { log } from '../../log';

/** SPEC §8: a ping gets 2 s. */
export const PING_TIMEOUT_MS = 2_000;
/** An unreachable node is pinged less often, up to this many intervals apart (with ±10 % jitter). */
const MAX_BACKOFF_INTERVALS = 4;

export interface NodeHealthOptions {
  /** Told of every change of a node's health (events, metrics, logs). */
  onChange?: (change: HealthChange) => void;
  /**
   * A node unreachable for `node_lost_after_s` is lost, and so at once is a VM an elastic cloud no
   * longer lists (`gone`): its tiers are placed elsewhere (see heal-nodes.ts).
   */
  onLost?: (name: string, cause: { gone: boolean }) => void;
  /** VMs an elastic cloud lists that the cluster lacked joined it, empty (queued jobs may start there). */
  onJoined?: (names: string[]) => void;
  now?: () => number;
}

/**
 * The health loop of SPEC §8: every `node_health_interval_s` each VM's engine gets a Docker ping
 * with a 2 s timeout (never ICMP); three failures in a row make it `unreachable`, one success
 * `ready`. An unreachable node is pinged with a growing back-off (up to four intervals, jittered).
 * When a node answers again its containers are read afresh (on the plan queue, so never in the
 * middle of an execution): what the engine did while it was away is what the allocator sees.
 *
 * On an elastic cloud each pass also asks the cloud for its VMs (cloud-watch.ts): a VM that left
 * (an instance terminated or replaced outside the daemon) is lost at once, without waiting for
 * pings to fail; a VM the cloud added by itself (a group's replacement) joins the cluster empty.
 */
export class NodeHealthLoop {
  private timer?: NodeJS.Timeout;
  private stopped = true;
  private readonly nextPingAt = new Map<string, number>();
  private running?: Promise<void>;
  /** The cloud watch in progress: it waits for the plan queue, so it runs beside the pings, one at a time. */
  private watching?: Promise<void>;
  /** Gone VMs already reported, until they leave the cluster. */
  private readonly reportedGone = new Set<string>();

  constructor(
    private readonly knowledge: Knowledge,
    private readonly services: Services,
    private readonly queue: SerialQueue,
    private readonly options: NodeHealthOptions = {},
  ) {}

  start(): void {
    this.stop();
    this.stopped = false;
    this.schedule(0);
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }

  /** Waits for a pass in progress (for a clean shutdown). */
  async settled(): Promise<void> {
    await this.running;
    await this.watching;
  }

  private intervalMs(): number {
    return this.knowledge.deployment?.topology.infrastructure.nodePool.healthIntervalMs ?? 10_000;
  }

  private schedule(delayMs: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.running = this.pass().then(() => undefined, (e) => { log.error(`node health pass: ${errorMessage(e)}`); }).finally(() => {
        this.running = undefined;
        this.schedule(this.intervalMs());
      });
    }, delayMs);
    this.timer.unref();
  }

  /** Pings every VM that is due; exported for tests through `checkNow`. */
  async pass(): Promise<HealthChange[]> {
    const deployment = this.knowledge.deployment;
    if (!deployment) return [];
    const now = this.options.now ?? Date.now;
    const interval = this.intervalMs();
    const pool = this.knowledge.nodes;
    const vms = Object.values(deployment.cluster).map((s) => s.vm);
    pool.retain(vms.map((vm) => vm.name));
    const changes: HealthChange[] = [];
    if (deployment.cloud.isElastic && !this.watching) {
      this.watching = this.watchCloud().finally(() => { this.watching = undefined; });
    }
    await Promise.all(vms.map(async (vm) => {
      const due = this.nextPingAt.get(vm.name) ?? 0;
      if (due > now()) return;
      const started = now();
      let change: HealthChange | undefined;
      try {
        await this.services.runtimeFor(vm).ping(PING_TIMEOUT_MS);
        change = pool.succeeded(vm.name, now() - started, now());
        this.nextPingAt.set(vm.name, now() + interval - 50);
      } catch (e) {
        change = pool.failed(vm.name, errorMessage(e), now());
        const status = pool.get(vm.name);
        const backoff = status.health === 'unreachable'
          ? Math.min(2 ** Math.max(0, status.failures - 3), MAX_BACKOFF_INTERVALS) * (0.9 + Math.random() * 0.2)
          : 1;
        this.nextPingAt.set(vm.name, now() + interval * backoff - 50);
      }
      if (change) {
        changes.push(change);
        log.warn(`node '${change.name}' is ${change.health}${change.health === 'unreachable' ? ` (${pool.get(change.name).lastError})` : ''}`);
        this.options.onChange?.(change);
        if (change.health === 'ready') await this.rereadNode(vm.name, pool.takeReplaced(vm.name));
      }
    }));
    for (const name of pool.newlyLost(deployment.topology.infrastructure.nodePool.lostAfterMs, now())) {
      log.warn(`node '${name}' is lost (unreachable for ${deployment.topology.infrastructure.nodePool.lostAfterMs / 1000} s)`);
      this.options.onLost?.(name, { gone: false });
    }
    return changes;
  }

  /** Reports each VM the cloud no longer lists once, as lost. */
  private async watchCloud(): Promise<void> {
    try {
      const { gone, joined } = await watchCloud(this.knowledge, this.queue);
      const cluster = this.knowledge.deployment?.cluster ?? {};
      for (const name of [...this.reportedGone]) if (!cluster[name]) this.reportedGone.delete(name);
      for (const name of joined) log.warn(`node '${name}' joined: the cloud lists it`);
      if (joined.length > 0) this.options.onJoined?.(joined);
      for (const name of gone) {
        if (this.stopped || this.reportedGone.has(name)) continue;
        this.reportedGone.add(name);
        log.warn(`node '${name}' is lost: the ${this.knowledge.deployment?.cloud.kind ?? ''} cloud no longer lists it`);
        this.options.onLost?.(name, { gone: true });
      }
    } catch (e) {
      log.error(`watching the cloud: ${errorMessage(e)}`);
    }
  }

  /**
   * A node back from unreachable: its containers as its engine reports them now. Back from lost,
   * the managed containers the allocation no longer lists there (their tiers were placed
   * elsewhere) are removed first, so nothing runs twice.
   */
  private async rereadNode(name: string, replaced: boolean): Promise<void> {
    await this.queue.run(async () => {
      const deployment = this.knowledge.deployment;
      const state = deployment?.cluster[name];
      if (!deployment || !state) return;
      try {
        const runtime = this.services.runtimeFor(state.vm);
        const found = await readVm(runtime, name, new Set(deployment.topology.tiers.keys()), 'full');
        const kept = [];
        for (const c of found) {
          if (replaced && state.containers[c.flatTier]?.id !== c.id) {
            await runtime.remove(c.id);
            log.warn(`removed '${c.name}' from node '${name}', which came back after its tiers were placed elsewhere`);
            continue;
          }
          kept.push(c);
        }
        this.knowledge.vmObserved(name, containerStatesOf(kept, deployment.topology.infrastructure.memUnitMb));
      } catch (e) {
        log.error(`reading node '${name}' after it came back: ${errorMessage(e)}`);
      }
    });
  }
}

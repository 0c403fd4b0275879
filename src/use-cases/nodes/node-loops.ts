import { Topology } from '../../domain/topology';
import { TopologyFollower } from '../../ports/topology-follower';
import { NodeHealthLoop } from './node-health';
import { ReconcileLoop } from './reconcile';

/** A loop that runs while a topology is in force. */
export interface TopologyLoop {
  start(): void;
  stop(): void;
  settled(): Promise<void>;
}

/**
 * The node pool's loops, (re)started for each topology put in force and stopped with the daemon:
 * health, drift repair, and (`fleet`) the fleet following the job queue (use-cases/jobs/).
 */
export class NodeLoops implements TopologyFollower {
  constructor(private readonly health: NodeHealthLoop, private readonly reconcile: ReconcileLoop, private readonly fleet?: TopologyLoop) {}

  follow(_topology: Topology): void {
    this.health.start();
    this.reconcile.start();
    this.fleet?.start();
  }

  stop(): void {
    this.health.stop();
    this.reconcile.stop();
    this.fleet?.stop();
  }

  async settled(): Promise<void> {
    await Promise.all([this.health.settled(), this.reconcile.settled(), this.fleet?.settled()]);
  }
}

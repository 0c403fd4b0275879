import { Topology } from '../../domain/topology';
import { TopologyFollower } from '../../ports/topology-follower';
import { NodeHealthLoop } from './node-health';
import { ReconcileLoop } from './reconcile';

/** The node pool's loops, (re)started for each topology put in force and stopped with the daemon. */
export class NodeLoops implements TopologyFollower {
  constructor(private readonly health: NodeHealthLoop, private readonly reconcile: ReconcileLoop) {}

  follow(_topology: Topology): void {
    this.health.start();
    this.reconcile.start();
  }

  stop(): void {
    this.health.stop();
    this.reconcile.stop();
  }

  async settled(): Promise<void> {
    await Promise.all([this.health.settled(), this.reconcile.settled()]);
  }
}

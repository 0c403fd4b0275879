import { Topology } from '../domain/topology';

/**
 * Work that follows the topology in force (the hooks repository's refresh, the node pool's loops):
 * told of each topology put in force (which replaces what followed the one before), and stopped
 * with the daemon.
 */
export interface TopologyFollower {
  follow(topology: Topology): void;
  stop(): void;
}

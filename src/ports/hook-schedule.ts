import { Topology } from '../domain/topology';

/**
 * Keeps the hooks repository fresh while a topology is in force: told of each topology put in force
 * (which replaces the schedule of the one before), and stopped with the daemon.
 */
export interface HookSchedule {
  follow(topology: Topology): void;
  stop(): void;
}

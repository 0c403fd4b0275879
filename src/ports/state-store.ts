import { RetentionPolicy } from './execution-store';

/** Who made a topology version: a user (`PUT /api/topology`, the start file) or an app edit (a system started or deleted). */
export type TopologyMaker = 'user' | 'apps';

/** Persists the accepted topology document so a restarted daemon comes back with it. */
export interface TopologyStore {
  load(): Promise<unknown | undefined>;
  save(document: unknown, madeBy?: TopologyMaker): Promise<void>;
  /** Accepted topologies, newest first (optional: a store may keep only the latest). */
  history?(limit: number): Promise<{ version: number; accepted_at: string; made_by: TopologyMaker; document: unknown }[]>;
  /** Drops old versions past retention, never the one in force (optional: a store may keep only the latest). */
  prune?(policy: RetentionPolicy): Promise<number>;
}

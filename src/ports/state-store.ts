/** Persists the accepted topology document so a restarted daemon comes back with it. */
export interface TopologyStore {
  load(): Promise<unknown | undefined>;
  save(document: unknown): Promise<void>;
  /** Accepted topologies, newest first (optional: a store may keep only the latest). */
  history?(limit: number): Promise<{ version: number; accepted_at: string; document: unknown }[]>;
}

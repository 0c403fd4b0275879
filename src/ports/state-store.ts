/** Persists the accepted topology document so a restarted daemon comes back with it. */
export interface TopologyStore {
  load(): Promise<unknown | undefined>;
  save(document: unknown): Promise<void>;
}

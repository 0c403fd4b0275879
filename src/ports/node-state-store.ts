/** The node pool's operator decisions that must survive a restart. */
export interface NodeState {
  /** Names of cordoned nodes. */
  cordoned: string[];
}

export interface NodeStateStore {
  load(): Promise<NodeState>;
  save(state: NodeState): Promise<void>;
}

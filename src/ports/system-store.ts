/** A system (a compose file started through /api/systems or /system/start) as the daemon records it. */
export interface SystemRecord {
  /** 32 hex digits. */
  sid: string;
  name: string;
  /** `<name>-<sid>`: its app in the topology. */
  app: string;
  namespace: string;
  username?: string;
  created_at: string;
  /** `starting` until its first execution finished and its services were ready; `running` after. */
  status: 'starting' | 'running' | 'deleting';
  /** Executions of kind `system` that started and deleted it. */
  execution_ids: string[];
  /** Warnings given when it was read (rounding, ignored keys). */
  warnings: string[];
  /**
   * Host ports chosen for its containers, by VM and service (`8080/tcp` -> 20001): a container
   * re-created on the same VM gets the same ports when they are free.
   */
  host_ports: Record<string, Record<string, Record<string, number>>>;
}

/** Where systems are kept; reads are served from memory, so `get` and `list` never wait on I/O. */
export interface SystemStore {
  list(): SystemRecord[];
  get(sid: string): SystemRecord | undefined;
  save(record: SystemRecord): Promise<void>;
  delete(sid: string): Promise<void>;
}

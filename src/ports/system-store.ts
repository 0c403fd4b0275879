import { SystemRecord } from '../domain/system';

/**
 * Where systems are kept; reads are served from memory, so `get` and `list` never wait on I/O.
 * A system's arrival and departure change the topology too: each is one transaction with the
 * topology version that holds (or no longer holds) its app.
 */
export interface SystemStore {
  list(): SystemRecord[];
  get(sid: string): SystemRecord | undefined;
  save(record: SystemRecord): Promise<void>;
  /** The new record and the topology document with its app, together or not at all. */
  saveWithTopology(record: SystemRecord, topology: unknown): Promise<void>;
  /** Forgets the system and keeps the topology document without its app, together or not at all. */
  deleteWithTopology(sid: string, topology: unknown): Promise<void>;
  delete(sid: string): Promise<void>;
}

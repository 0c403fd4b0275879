import * as path from 'path';
import { SystemRecord, SystemStore } from '../../ports/system-store';
import { readJsonOrSetAside, writeFileAtomic } from './atomic-write';
import { log } from '../../log';

/**
 * `<state dir>/systems.json`: every system by sid, held in memory and written whole on each change.
 * A file that does not read is set aside (`systems.json.unreadable-<time>`) and the daemon starts
 * with no system.
 */
export class FileSystemStore implements SystemStore {
  private readonly records = new Map<string, SystemRecord>();
  private writes: Promise<void> = Promise.resolve();

  private constructor(private readonly file: string) {}

  static async open(stateDir: string): Promise<FileSystemStore> {
    const store = new FileSystemStore(path.join(stateDir, 'systems.json'));
    const document = await readJsonOrSetAside(store.file, Array.isArray, (message) => log.warn(`${message}; starting with no system`));
    for (const r of (document ?? []) as SystemRecord[]) {
      if (r && typeof r.sid === 'string') store.records.set(r.sid, { ...r, host_ports: r.host_ports ?? {}, execution_ids: r.execution_ids ?? [], warnings: r.warnings ?? [] });
    }
    return store;
  }

  list(): SystemRecord[] {
    return [...this.records.values()].sort((a, b) => a.created_at.localeCompare(b.created_at) || a.sid.localeCompare(b.sid));
  }

  get(sid: string): SystemRecord | undefined {
    return this.records.get(sid);
  }

  save(record: SystemRecord): Promise<void> {
    this.records.set(record.sid, record);
    return this.flush();
  }

  delete(sid: string): Promise<void> {
    this.records.delete(sid);
    return this.flush();
  }

  /** Writes one after the other, each with the state at its turn. */
  private flush(): Promise<void> {
    this.writes = this.writes.catch(() => undefined).then(() => writeFileAtomic(this.file, JSON.stringify(this.list(), null, 2) + '\n'));
    return this.writes;
  }
}

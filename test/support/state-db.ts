import Database from 'better-sqlite3';
import * as path from 'path';
import { DATABASE_FILE } from '../../src/drivers/sqlite/database';

/** Rows of the state database of a running (or stopped) daemon, read through a read-only connection of its own. */
export function stateRows<T = Record<string, unknown>>(stateDir: string, sql: string): T[] {
  const db = new Database(path.join(stateDir, DATABASE_FILE), { readonly: true });
  try {
    return db.prepare(sql).all() as T[];
  } finally {
    db.close();
  }
}

/** The system records as the daemon keeps them. */
export function storedSystems(stateDir: string): { sid: string; host_ports: Record<string, Record<string, Record<string, number>>> }[] {
  return stateRows<{ record: string }>(stateDir, 'SELECT record FROM systems ORDER BY created_at, sid').map((r) => JSON.parse(r.record));
}

import Database from 'better-sqlite3';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { log } from '../../log';
import { SystemRecord } from '../../domain/system';
import { DATABASE_FILE } from '../sqlite/database';
import { PgDatabase } from './database';

const PENDING = 'systems.import_from_state_dir';

/**
 * Systems and cordons were kept in each daemon's state dir (its SQLite file) while the rest of the
 * state was already in PostgreSQL. The first daemon to lead on a database marked for it (migration
 * 3 marks a database already in use) copies its state dir's systems and cordons into the empty
 * tables, once: the mark goes in the same fenced transaction. The state dir's file is only read,
 * never changed. Answers what was imported, or undefined when nothing was.
 */
export async function importStateDirSystems(db: PgDatabase, stateDir: string): Promise<{ systems: number; cordons: number } | undefined> {
  const pending = await db.query('SELECT 1 FROM meta WHERE key = $1', [PENDING]);
  const local = readLocal(path.join(stateDir, DATABASE_FILE));
  if (pending.length === 0) {
    if (local && local.systems.length + local.cordons.length > 0) {
      log.info({ state_dir: stateDir, systems: local.systems.length, cordons: local.cordons.length },
        'the state dir holds systems and cordons of the earlier layout; they are not imported (PostgreSQL holds them now)');
    }
    return undefined;
  }
  return db.write(async (c) => {
    const claimed = await c.query('DELETE FROM meta WHERE key = $1', [PENDING]);
    if (claimed.rowCount !== 1 || !local) return undefined;
    const held = await c.query('SELECT (SELECT count(*) FROM systems) + (SELECT count(*) FROM cordons) AS n');
    if (Number(held.rows[0].n) > 0) return undefined;
    for (const s of local.systems) {
      await c.query('INSERT INTO systems (sid, created_at, record) VALUES ($1, $2, $3) ON CONFLICT (sid) DO NOTHING', [s.sid, s.created_at, s.record]);
    }
    await c.query('INSERT INTO cordons (node) SELECT unnest($1::text[]) ON CONFLICT DO NOTHING', [local.cordons]);
    const imported = { systems: local.systems.length, cordons: local.cordons.length };
    if (imported.systems + imported.cordons > 0) log.info({ ...imported, state_dir: stateDir }, 'imported the state dir\'s systems and cordons into PostgreSQL');
    return imported.systems + imported.cordons > 0 ? imported : undefined;
  });
}

/** The systems and cordons of a state dir's SQLite file, read only; undefined without a file or those tables. */
function readLocal(file: string): { systems: { sid: string; created_at: string; record: string }[]; cordons: string[] } | undefined {
  if (!fs.existsSync(file)) return undefined;
  let sqlite: Database.Database | undefined;
  try {
    sqlite = new Database(file, { readonly: true, fileMustExist: true });
    const tables = new Set((sqlite.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").all() as { name: string }[]).map((t) => t.name));
    if (!tables.has('systems') || !tables.has('cordons')) return undefined;
    const rows = sqlite.prepare('SELECT sid, created_at, record FROM systems ORDER BY created_at, sid').all() as { sid: string; created_at: string; record: string }[];
    // A row that does not read stays behind in the file (PgSystemStore would only set it aside).
    const systems = rows.filter((r) => { try { return (JSON.parse(r.record) as SystemRecord).sid === r.sid; } catch { return false; } });
    const cordons = (sqlite.prepare('SELECT node FROM cordons ORDER BY node').all() as { node: string }[]).map((r) => r.node);
    return { systems, cordons };
  } catch (e) {
    log.warn({ file, err: (e as Error).message }, 'could not read the state dir\'s SQLite file for systems and cordons to import');
    return undefined;
  } finally {
    sqlite?.close();
  }
}

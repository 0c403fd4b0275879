import * as fs from 'node:fs';
import * as path from 'node:path';
import { log } from '../../log';
import { setAside, SqliteDatabase } from './database';
import { SqliteExecutionStore } from './sqlite-execution-store';
import { SqliteProcessDefinitionStore } from './sqlite-process-definition-store';

const IMPORTED_KEY = 'imported_json_layout';
const IMPORTED_SIDE_FILES_KEY = 'imported_systems_and_cordons';

export interface ImportResult {
  topology: boolean;
  processDefinitions: number;
  executions: number;
  setAside: number;
  /** From `systems.json` and `nodes.json`, when they were there. */
  systems?: number;
  cordons?: number;
}

/** Imports what earlier versions kept in JSON files (each kind once); undefined when there was none. */
export async function importEarlierState(db: SqliteDatabase, stateDir: string): Promise<ImportResult | undefined> {
  const layout = await importJsonState(db, stateDir);
  const sideFiles = importSideFiles(db, stateDir);
  if (!sideFiles) return layout;
  const base = layout ?? { topology: false, processDefinitions: 0, executions: 0, setAside: 0 };
  return { ...base, systems: sideFiles.systems, cordons: sideFiles.cordons, setAside: base.setAside + sideFiles.setAside };
}

/**
 * Imports a state dir of the earlier JSON-file layout (`topology.json`, `process-definitions.json`,
 * `executions/*.json`) into the database, once: everything goes in one transaction, then the old
 * files are renamed `*.imported` (kept as they were, for a downgrade or a look). A file that cannot
 * be read is kept in the database's `set_aside` table with a warning and does not stop the import.
 */
export async function importJsonState(db: SqliteDatabase, stateDir: string): Promise<ImportResult | undefined> {
  if (db.prepare('SELECT 1 FROM meta WHERE key = ?').get(IMPORTED_KEY)) return undefined;
  const topologyFile = path.join(stateDir, 'topology.json');
  const definitionsFile = path.join(stateDir, 'process-definitions.json');
  const executionsDir = path.join(stateDir, 'executions');
  const present = [topologyFile, definitionsFile, executionsDir].filter((f) => fs.existsSync(f));
  const result: ImportResult = { topology: false, processDefinitions: 0, executions: 0, setAside: 0 };
  const executions = new SqliteExecutionStore(db);
  const definitions = new SqliteProcessDefinitionStore(db);
  const saves: Promise<void>[] = [];

  db.transaction(() => {
    const readText = (file: string): string | undefined => {
      try {
        return fs.readFileSync(file, 'utf8');
      } catch (e) {
        log.warn({ file, err: (e as Error).message }, 'cannot read a file of the earlier state layout: skipped');
        return undefined;
      }
    };
    const parse = (file: string, text: string): unknown => {
      try {
        return JSON.parse(text);
      } catch (e) {
        log.warn({ file, err: (e as Error).message }, 'unreadable file of the earlier state layout: set aside');
        setAside(db, path.relative(stateDir, file), (e as Error).message, text);
        result.setAside++;
        return undefined;
      }
    };
    if (fs.existsSync(topologyFile)) {
      const text = readText(topologyFile);
      const document = text === undefined ? undefined : parse(topologyFile, text);
      if (document !== undefined) {
        db.prepare('INSERT INTO topologies (accepted_at, document) VALUES (?, ?)').run(fs.statSync(topologyFile).mtime.toISOString(), JSON.stringify(document));
        result.topology = true;
      }
    }
    if (fs.existsSync(definitionsFile)) {
      const text = readText(definitionsFile);
      const registry = text === undefined ? undefined : parse(definitionsFile, text) as { next_id?: number; definitions?: { id: unknown; definition: unknown }[] } | undefined;
      if (registry && Array.isArray(registry.definitions)) {
        definitions.importAll(Number(registry.next_id) || 1, registry.definitions.map((d) => ({ id: String(d.id), document: d.definition })));
        result.processDefinitions = registry.definitions.length;
      }
    }
    if (fs.existsSync(executionsDir)) {
      const files = fs.readdirSync(executionsDir).filter((f) => f.endsWith('.json')).sort();
      for (const name of files) {
        const file = path.join(executionsDir, name);
        const text = readText(file);
        const execution = text === undefined ? undefined : parse(file, text) as { id?: unknown; status?: unknown; created_at?: unknown; steps?: unknown } | undefined;
        if (execution === undefined) continue;
        if (typeof execution.id !== 'string' || typeof execution.status !== 'string' || typeof execution.created_at !== 'string' || !Array.isArray(execution.steps)) {
          log.warn({ file }, 'file of the earlier state layout is not an execution record: set aside');
          setAside(db, path.relative(stateDir, file), 'not an execution record', text ?? '');
          result.setAside++;
          continue;
        }
        // Synchronous underneath: the write happens inside this transaction.
        saves.push(executions.save(execution as never));
        result.executions++;
      }
    }
    db.prepare('INSERT INTO meta (key, value) VALUES (?, ?)').run(IMPORTED_KEY, new Date().toISOString());
  }).immediate();
  await Promise.all(saves);

  for (const file of present) fs.renameSync(file, `${file}.imported`);
  if (present.length > 0) log.info({ ...result, state_dir: stateDir }, 'imported the earlier JSON-file state layout');
  return present.length > 0 ? result : undefined;
}

/**
 * Imports the two JSON files kept beside the database before systems and cordons moved into it
 * (`systems.json`, `nodes.json`), once, in one transaction; then they are renamed `*.imported`. A
 * file that does not read, or is not what it should hold, is kept in `set_aside` with a warning
 * and counts as no system / no cordon.
 */
export function importSideFiles(db: SqliteDatabase, stateDir: string): { systems: number; cordons: number; setAside: number } | undefined {
  if (db.prepare('SELECT 1 FROM meta WHERE key = ?').get(IMPORTED_SIDE_FILES_KEY)) return undefined;
  const systemsFile = path.join(stateDir, 'systems.json');
  const nodesFile = path.join(stateDir, 'nodes.json');
  const present = [systemsFile, nodesFile].filter((f) => fs.existsSync(f));
  const result = { systems: 0, cordons: 0, setAside: 0 };
  const read = (file: string, isValid: (document: unknown) => boolean): unknown => {
    let text = '';
    try {
      text = fs.readFileSync(file, 'utf8');
      const document = JSON.parse(text);
      if (isValid(document)) return document;
      throw new Error('not what it should hold');
    } catch (e) {
      log.warn({ file, err: (e as Error).message }, 'unreadable state file: set aside in the database');
      setAside(db, path.relative(stateDir, file), (e as Error).message, text);
      result.setAside++;
      return undefined;
    }
  };
  db.transaction(() => {
    if (fs.existsSync(systemsFile)) {
      const records = read(systemsFile, Array.isArray) as unknown[] | undefined;
      const insert = db.prepare('INSERT OR REPLACE INTO systems (sid, created_at, record) VALUES (?, ?, ?)');
      for (const r of records ?? []) {
        const record = r as { sid?: unknown; created_at?: unknown } | null;
        if (!record || typeof record.sid !== 'string' || typeof record.created_at !== 'string') {
          setAside(db, path.relative(stateDir, systemsFile), 'not a system record', JSON.stringify(r));
          result.setAside++;
          continue;
        }
        insert.run(record.sid, record.created_at, JSON.stringify(record));
        result.systems++;
      }
    }
    if (fs.existsSync(nodesFile)) {
      const isState = (d: unknown) => typeof d === 'object' && d !== null && Array.isArray((d as { cordoned?: unknown }).cordoned);
      const state = read(nodesFile, isState) as { cordoned: unknown[] } | undefined;
      const insert = db.prepare('INSERT OR IGNORE INTO cordons (node) VALUES (?)');
      for (const node of (state?.cordoned ?? []).filter((n): n is string => typeof n === 'string')) {
        insert.run(node);
        result.cordons++;
      }
    }
    db.prepare('INSERT INTO meta (key, value) VALUES (?, ?)').run(IMPORTED_SIDE_FILES_KEY, new Date().toISOString());
  }).immediate();
  for (const file of present) fs.renameSync(file, `${file}.imported`);
  if (present.length > 0) log.info({ ...result, state_dir: stateDir }, 'imported systems.json and nodes.json into the state database');
  return present.length > 0 ? result : undefined;
}

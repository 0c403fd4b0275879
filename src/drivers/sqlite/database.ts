import Database from 'better-sqlite3';
import * as fs from 'node:fs';
import * as path from 'node:path';

export type SqliteDatabase = Database.Database;

export const DATABASE_FILE = 'ecoware.db';

/**
 * Schema versions, applied in order inside one transaction each; `PRAGMA user_version` says how
 * many ran. A new version is appended here, never edited.
 */
const MIGRATIONS: string[] = [
  `
  CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
  CREATE TABLE lease (name TEXT PRIMARY KEY, holder TEXT NOT NULL, acquired_at TEXT NOT NULL, expires_at INTEGER NOT NULL) WITHOUT ROWID;
  CREATE TABLE topologies (version INTEGER PRIMARY KEY AUTOINCREMENT, accepted_at TEXT NOT NULL, document TEXT NOT NULL);
  CREATE TABLE process_definitions (
    id TEXT PRIMARY KEY,
    position INTEGER NOT NULL UNIQUE,
    definition TEXT NOT NULL
  );
  CREATE TABLE executions (
    id TEXT PRIMARY KEY,
    status TEXT NOT NULL,
    kind TEXT NOT NULL DEFAULT 'plan',
    created_at TEXT NOT NULL,
    finished_at TEXT,
    record TEXT NOT NULL
  ) WITHOUT ROWID;
  CREATE INDEX executions_unfinished ON executions (id) WHERE status IN ('queued', 'running');
  CREATE INDEX executions_by_status ON executions (status, id);
  CREATE INDEX executions_by_kind ON executions (kind, id);
  CREATE INDEX executions_by_created ON executions (created_at);
  CREATE TABLE execution_actions (
    execution_id TEXT NOT NULL REFERENCES executions (id) ON DELETE CASCADE,
    layer INTEGER NOT NULL,
    idx INTEGER NOT NULL,
    status TEXT NOT NULL,
    record TEXT NOT NULL,
    PRIMARY KEY (execution_id, layer, idx)
  ) WITHOUT ROWID;
  -- How many executions there are by status and kind, kept by triggers: listing totals without a count over the history.
  CREATE TABLE execution_counts (status TEXT NOT NULL, kind TEXT NOT NULL, n INTEGER NOT NULL, PRIMARY KEY (status, kind)) WITHOUT ROWID;
  CREATE TRIGGER executions_counted_in AFTER INSERT ON executions BEGIN
    INSERT INTO execution_counts (status, kind, n) VALUES (new.status, new.kind, 1) ON CONFLICT (status, kind) DO UPDATE SET n = n + 1;
  END;
  CREATE TRIGGER executions_counted_out AFTER DELETE ON executions BEGIN
    UPDATE execution_counts SET n = n - 1 WHERE status = old.status AND kind = old.kind;
  END;
  CREATE TRIGGER executions_recounted AFTER UPDATE OF status, kind ON executions WHEN old.status IS NOT new.status OR old.kind IS NOT new.kind BEGIN
    UPDATE execution_counts SET n = n - 1 WHERE status = old.status AND kind = old.kind;
    INSERT INTO execution_counts (status, kind, n) VALUES (new.status, new.kind, 1) ON CONFLICT (status, kind) DO UPDATE SET n = n + 1;
  END;
  CREATE TABLE set_aside (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    source TEXT NOT NULL,
    reason TEXT NOT NULL,
    content TEXT NOT NULL,
    at TEXT NOT NULL
  );
  `,
  // Systems and cordons join the database (they were systems.json and nodes.json); topology versions
  // say who made them: a user (PUT /api/topology, the start file) or an app edit (a system's start or delete).
  `
  CREATE TABLE systems (sid TEXT PRIMARY KEY, created_at TEXT NOT NULL, record TEXT NOT NULL) WITHOUT ROWID;
  CREATE TABLE cordons (node TEXT PRIMARY KEY) WITHOUT ROWID;
  ALTER TABLE topologies ADD COLUMN made_by TEXT NOT NULL DEFAULT 'user';
  `,
  // Jobs (SPEC §10): templates, jobs with their attempts in the record, and the kept tail of each
  // attempt's stdout and stderr.
  `
  CREATE TABLE job_templates (name TEXT PRIMARY KEY, record TEXT NOT NULL) WITHOUT ROWID;
  CREATE TABLE jobs (
    id TEXT PRIMARY KEY,
    template TEXT NOT NULL,
    status TEXT NOT NULL,
    idempotency_key TEXT UNIQUE,
    created_at TEXT NOT NULL,
    record TEXT NOT NULL
  ) WITHOUT ROWID;
  CREATE INDEX jobs_unfinished ON jobs (id) WHERE status IN ('queued', 'starting', 'running');
  CREATE INDEX jobs_by_status ON jobs (status, id);
  CREATE INDEX jobs_by_template ON jobs (template, id);
  CREATE TABLE job_logs (
    job_id TEXT NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
    attempt INTEGER NOT NULL,
    stream TEXT NOT NULL,
    content BLOB NOT NULL,
    PRIMARY KEY (job_id, attempt, stream)
  ) WITHOUT ROWID;
  `,
];

/**
 * Opens (creating if needed) `<state dir>/ecoware.db`: WAL journal, every commit synced to disk
 * (`synchronous=FULL`), foreign keys on, and the schema migrated. The state dir is made 0700 and the
 * database file 0600 before SQLite creates it, so its WAL and shared-memory files inherit that mode.
 */
export function openDatabase(stateDir: string): { db: SqliteDatabase; created: boolean } {
  fs.mkdirSync(stateDir, { recursive: true, mode: 0o700 });
  fs.chmodSync(stateDir, 0o700);
  const file = path.join(stateDir, DATABASE_FILE);
  const created = !fs.existsSync(file);
  fs.closeSync(fs.openSync(file, 'a', 0o600));
  fs.chmodSync(file, 0o600);
  const db = new Database(file);
  try {
    db.pragma('busy_timeout = 5000');
    if (created) db.pragma('auto_vacuum = INCREMENTAL');
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = FULL');
    db.pragma('foreign_keys = ON');
    migrate(db);
  } catch (e) {
    db.close();
    throw e;
  }
  return { db, created };
}

function migrate(db: SqliteDatabase): void {
  const current = db.pragma('user_version', { simple: true }) as number;
  if (current > MIGRATIONS.length) {
    throw new Error(`the state database has schema version ${current}, newer than this daemon knows (${MIGRATIONS.length}): upgrade the daemon`);
  }
  for (let version = current; version < MIGRATIONS.length; version++) {
    db.transaction(() => {
      db.exec(MIGRATIONS[version]);
      db.pragma(`user_version = ${version + 1}`);
    }).immediate();
  }
}

/** Keeps a record that could not be read, with why, instead of letting it stop the daemon. */
export function setAside(db: SqliteDatabase, source: string, reason: string, content: string): void {
  db.prepare('INSERT INTO set_aside (source, reason, content, at) VALUES (?, ?, ?, ?)').run(source, reason, content, new Date().toISOString());
}

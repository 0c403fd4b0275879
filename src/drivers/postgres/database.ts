import { Pool, PoolClient } from 'pg';
import { InfrastructureError } from '../../domain/errors';
import { log } from '../../log';

/**
 * Schema versions of the PostgreSQL state database, applied in order, each in its own transaction
 * with its row in `schema_version`. A new version is appended here, never edited. The tables are
 * those of the SQLite backend (src/drivers/sqlite/database.ts); ids compare byte by byte
 * (`COLLATE "C"`) so that listings sort as on SQLite whatever the database's locale.
 */
const MIGRATIONS: string[] = [
  `
  CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
  CREATE TABLE topologies (version BIGSERIAL PRIMARY KEY, accepted_at TEXT NOT NULL, document TEXT NOT NULL);
  CREATE TABLE process_definitions (
    id TEXT COLLATE "C" PRIMARY KEY,
    position INTEGER NOT NULL UNIQUE,
    definition TEXT NOT NULL
  );
  CREATE TABLE executions (
    id TEXT COLLATE "C" PRIMARY KEY,
    status TEXT NOT NULL,
    kind TEXT NOT NULL DEFAULT 'plan',
    created_at TEXT COLLATE "C" NOT NULL,
    finished_at TEXT,
    record TEXT NOT NULL
  );
  CREATE INDEX executions_unfinished ON executions (id) WHERE status IN ('queued', 'running');
  CREATE INDEX executions_by_status ON executions (status, id);
  CREATE INDEX executions_by_kind ON executions (kind, id);
  CREATE INDEX executions_by_created ON executions (created_at);
  CREATE TABLE execution_actions (
    execution_id TEXT COLLATE "C" NOT NULL REFERENCES executions (id) ON DELETE CASCADE,
    layer INTEGER NOT NULL,
    idx INTEGER NOT NULL,
    status TEXT NOT NULL,
    record TEXT NOT NULL,
    PRIMARY KEY (execution_id, layer, idx)
  );
  CREATE TABLE set_aside (
    seq BIGSERIAL PRIMARY KEY,
    source TEXT NOT NULL,
    reason TEXT NOT NULL,
    content TEXT NOT NULL,
    at TEXT NOT NULL
  );
  -- The leader's lease (SPEC §12): one row per name, times from the database's clock only.
  CREATE TABLE lease (
    name TEXT PRIMARY KEY,
    holder TEXT,
    url TEXT,
    epoch BIGINT NOT NULL DEFAULT 0,
    since TIMESTAMPTZ,
    expires_at TIMESTAMPTZ NOT NULL DEFAULT '-infinity'
  );
  INSERT INTO lease (name) VALUES ('leader');
  `,
  // Who made a topology version (a user, or an app edit: a system started or deleted).
  `ALTER TABLE topologies ADD COLUMN made_by TEXT NOT NULL DEFAULT 'user';`,
  // Jobs (SPEC §10), as on SQLite.
  `
  CREATE TABLE job_templates (name TEXT COLLATE "C" PRIMARY KEY, record TEXT NOT NULL);
  CREATE TABLE jobs (
    id TEXT COLLATE "C" PRIMARY KEY,
    template TEXT COLLATE "C" NOT NULL,
    status TEXT NOT NULL,
    idempotency_key TEXT UNIQUE,
    created_at TEXT COLLATE "C" NOT NULL,
    record TEXT NOT NULL
  );
  CREATE INDEX jobs_unfinished ON jobs (id) WHERE status IN ('queued', 'starting', 'running');
  CREATE INDEX jobs_by_status ON jobs (status, id);
  CREATE INDEX jobs_by_template ON jobs (template, id);
  CREATE TABLE job_logs (
    job_id TEXT COLLATE "C" NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
    attempt INTEGER NOT NULL,
    stream TEXT NOT NULL,
    content BYTEA NOT NULL,
    PRIMARY KEY (job_id, attempt, stream)
  );
  `,
  // Systems and cordons join the other state (they were in each daemon's state dir). A database
  // already in use is marked for the one import of the first leader's state-dir systems and cordons
  // (src/drivers/postgres/import-state-dir.ts); a new one has nothing to import.
  `
  CREATE TABLE systems (sid TEXT COLLATE "C" PRIMARY KEY, created_at TEXT NOT NULL, record TEXT NOT NULL);
  CREATE TABLE cordons (node TEXT COLLATE "C" PRIMARY KEY);
  INSERT INTO meta (key, value) SELECT 'systems.import_from_state_dir', 'pending'
    WHERE EXISTS (SELECT 1 FROM topologies) OR EXISTS (SELECT 1 FROM executions);
  `,
  // The epoch of the leader that ran an execution (null: written without fencing).
  `ALTER TABLE executions ADD COLUMN epoch BIGINT;`,
];

/** The writer's fencing token: a write commits only while the lease row still names it. */
export interface Fence {
  holder: string;
  epoch: number;
}

/** A write refused because this daemon no longer holds the lease with that epoch. */
export class FencedError extends InfrastructureError {
  constructor(fence: Fence | undefined) {
    super(fence
      ? `this daemon no longer leads (epoch ${fence.epoch} moved on): the write is refused`
      : 'this daemon does not lead: the write is refused', 'state');
    this.name = 'FencedError';
  }
}

/**
 * A pool on the PostgreSQL state database. Reads go straight to the pool; every write goes through
 * `write`, one transaction that first checks the fence when fencing is on.
 *
 * Why a check inside the transaction rather than a trigger or an advisory lock: `SELECT … FROM lease
 * … FOR SHARE` takes a share lock on the lease row for the rest of the transaction, and a takeover
 * is an UPDATE of that row, which waits for it. So a write either commits before the takeover
 * commits (it was the leader's, with the epoch then in force) or sees the new epoch and is refused:
 * no write of an old epoch can land after a new leader took over. A trigger would have to learn the
 * writer's epoch through a session setting, which connection poolers lose; advisory locks are lost
 * on reconnects and behind poolers. The check needs nothing but the transaction itself.
 */
export class PgDatabase {
  /** undefined: no fencing (one daemon, or a tool); null: fenced and not leading (every write refused). */
  private fence: Fence | null | undefined = undefined;

  constructor(readonly pool: Pool) {}

  /** Turns fencing on with this token, or with null (every write refused until a token is set). */
  setFence(fence: Fence | null): void {
    this.fence = fence;
  }

  get currentFence(): Fence | null | undefined {
    return this.fence;
  }

  async query<R extends object = Record<string, unknown>>(sql: string, params: unknown[] = []): Promise<R[]> {
    return (await this.pool.query(sql, params)).rows as R[];
  }

  /** Runs `fn` in a transaction that commits only while this daemon's fence holds (`fence`: the one checked). */
  async write<T>(fn: (client: PoolClient, fence: Fence | undefined) => Promise<T>): Promise<T> {
    const fence = this.fence;
    if (fence === null) throw new FencedError(undefined);
    const client = await this.pool.connect();
    // The server may end the connection mid-transaction (a restart, or the idle-in-transaction
    // timeout): that is this write's failure, never an unhandled error; the client is then dropped.
    let broken: Error | undefined;
    const onError = (e: Error) => { broken = e; };
    client.on('error', onError);
    try {
      await client.query('BEGIN');
      if (fence) {
        const held = await client.query(
          "SELECT 1 FROM lease WHERE name = 'leader' AND holder = $1 AND epoch = $2 AND expires_at > now() FOR SHARE",
          [fence.holder, fence.epoch],
        );
        if (held.rowCount !== 1) throw new FencedError(fence);
      }
      const result = await fn(client, fence);
      await client.query('COMMIT');
      return result;
    } catch (e) {
      if (!broken) await client.query('ROLLBACK').catch(() => undefined);
      throw e;
    } finally {
      client.off('error', onError);
      client.release(broken);
    }
  }

  async close(): Promise<void> {
    await this.pool.end();
  }
}

/**
 * Opens a pool on `url` and migrates the schema (several daemons starting at once migrate one after
 * the other). The server ends a transaction left idle longer than `idleInTransactionMs`: a leader
 * paused (or cut off) in the middle of a write holds the lease row's share lock, and a takeover
 * waits for it; this bounds that wait.
 */
export async function openPgDatabase(url: string, options: { idleInTransactionMs?: number } = {}): Promise<PgDatabase> {
  const pool = new Pool({
    connectionString: url, max: 8, connectionTimeoutMillis: 5_000, idleTimeoutMillis: 30_000,
    idle_in_transaction_session_timeout: options.idleInTransactionMs ?? 5_000,
  });
  // A server restarted under an idle pool: the dead connection errors here, the pool replaces it.
  pool.on('error', (e) => log.warn({ err: e.message }, 'a PostgreSQL connection of the state pool failed; it is replaced'));
  try {
    await migrate(pool);
  } catch (e) {
    await pool.end().catch(() => undefined);
    throw e;
  }
  return new PgDatabase(pool);
}

async function migrate(pool: Pool): Promise<void> {
  const client = await pool.connect();
  try {
    for (;;) {
      await client.query('BEGIN');
      try {
        // One migrating daemon at a time (a short transaction-scoped lock, released at COMMIT):
        // even CREATE TABLE IF NOT EXISTS fails when two sessions run it at once.
        await client.query('SELECT pg_advisory_xact_lock(727017)');
        await client.query('CREATE TABLE IF NOT EXISTS schema_version (version INTEGER PRIMARY KEY, applied_at TIMESTAMPTZ NOT NULL DEFAULT now())');
        const current = Number((await client.query('SELECT coalesce(max(version), 0) AS v FROM schema_version')).rows[0].v);
        if (current > MIGRATIONS.length) {
          throw new Error(`the state database has schema version ${current}, newer than this daemon knows (${MIGRATIONS.length}): upgrade the daemon`);
        }
        if (current === MIGRATIONS.length) {
          await client.query('COMMIT');
          return;
        }
        await client.query(MIGRATIONS[current]);
        await client.query('INSERT INTO schema_version (version) VALUES ($1)', [current + 1]);
        await client.query('COMMIT');
      } catch (e) {
        await client.query('ROLLBACK').catch(() => undefined);
        throw e;
      }
    }
  } finally {
    client.release();
  }
}

/** Keeps a record that could not be read, with why; a standby (its writes fenced) leaves the row as it is. */
export async function setAside(db: PgDatabase, source: string, reason: string, content: string, remove: { sql: string; params: unknown[] }): Promise<void> {
  try {
    await db.write(async (c) => {
      await c.query('INSERT INTO set_aside (source, reason, content, at) VALUES ($1, $2, $3, $4)', [source, reason, content, new Date().toISOString()]);
      await c.query(remove.sql, remove.params);
    });
  } catch (e) {
    log.warn({ source, err: (e as Error).message }, 'could not set the unreadable record aside; it is left in place');
  }
}

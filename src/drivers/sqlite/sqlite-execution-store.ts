import type Database from 'better-sqlite3';
import { ActionRecord, Execution, FINISHED_STATUSES, isFinished, kindOf } from '../../domain/execution';
import { ExecutionPage, ExecutionStore, RetentionPolicy } from '../../ports/execution-store';
import { log } from '../../log';
import { ActionRow, actionsByExecution, executionFromRows, ExecutionRow, storedRecordJson } from '../stored-execution';
import { setAside, SqliteDatabase } from './database';

type Statement = Database.Statement<unknown[]>;

/** The SQL list of finished statuses, for `status IN (…)`. */
const FINISHED_SQL = FINISHED_STATUSES.map((status) => `'${status}'`).join(', ');

/**
 * Executions in SQLite: one row per execution (status, kind and times in indexed columns, the rest
 * as JSON) and one row per action, so an action's progress is a small write of its own. Only the
 * actions that changed since the last write of an execution are written again.
 */
export class SqliteExecutionStore implements ExecutionStore {
  /** Per unfinished execution: the JSON last written for each action, to write only what changed. */
  private readonly written = new Map<string, Map<string, string>>();

  private readonly upsertExecution: Statement;
  private readonly upsertAction: Statement;
  private readonly deleteActions: Statement;
  private readonly selectOne: Statement;
  private readonly selectUnfinished: Statement;

  constructor(private readonly db: SqliteDatabase) {
    this.upsertExecution = db.prepare(`INSERT INTO executions (id, status, kind, created_at, finished_at, record) VALUES (?, ?, ?, ?, ?, ?)
      ON CONFLICT (id) DO UPDATE SET status = excluded.status, kind = excluded.kind, finished_at = excluded.finished_at, record = excluded.record`);
    this.upsertAction = db.prepare(`INSERT INTO execution_actions (execution_id, layer, idx, status, record) VALUES (?, ?, ?, ?, ?)
      ON CONFLICT (execution_id, layer, idx) DO UPDATE SET status = excluded.status, record = excluded.record`);
    this.deleteActions = db.prepare('DELETE FROM execution_actions WHERE execution_id = ?');
    this.selectOne = db.prepare('SELECT id, record FROM executions WHERE id = ?');
    this.selectUnfinished = db.prepare("SELECT id, record FROM executions WHERE status IN ('queued', 'running') ORDER BY id");
  }

  async save(execution: Execution): Promise<void> {
    const { steps } = execution;
    const kind = kindOf(execution);
    const finished = isFinished(execution.status);
    let cache = this.written.get(execution.id);
    if (!cache) this.written.set(execution.id, (cache = new Map()));
    const changes: [number, number, ActionRecord, string][] = [];
    steps.forEach((layer, l) => layer.forEach((action, i) => {
      const json = JSON.stringify(action);
      if (cache.get(`${l}:${i}`) !== json) changes.push([l, i, action, json]);
    }));
    this.db.transaction(() => {
      this.upsertExecution.run(execution.id, execution.status, kind, execution.created_at, execution.finished_at ?? null, storedRecordJson(execution));
      if (changes.length > 0 && cache.size === 0) {
        // A new set of actions (the first decision, or a record imported whole): drop any earlier ones.
        this.deleteActions.run(execution.id);
      }
      for (const [l, i, action, json] of changes) this.upsertAction.run(execution.id, l, i, action.status, json);
    }).immediate();
    if (finished) this.written.delete(execution.id);
    else for (const [l, i, , json] of changes) cache.set(`${l}:${i}`, json);
  }

  async saveAction(executionId: string, layer: number, index: number, action: ActionRecord): Promise<void> {
    const json = JSON.stringify(action);
    this.upsertAction.run(executionId, layer, index, action.status, json);
    this.written.get(executionId)?.set(`${layer}:${index}`, json);
  }

  async get(id: string): Promise<Execution | undefined> {
    const row = this.selectOne.get(id) as ExecutionRow | undefined;
    return row ? this.assemble([row])[0] : undefined;
  }

  async list(page: ExecutionPage): Promise<{ total: number; items: Execution[] }> {
    const filter = page.filter ?? {};
    const { where, params } = conditions(filter);
    const total = filter.since || filter.before
      ? (this.db.prepare(`SELECT count(*) AS n FROM executions ${where}`).get(...params) as { n: number }).n
      // Status and kind alone: the counts the triggers keep.
      : (this.db.prepare(`SELECT coalesce(sum(n), 0) AS n FROM execution_counts ${where}`).get(...params) as { n: number }).n;
    const rows = this.db.prepare(`SELECT id, record FROM executions ${where} ORDER BY id DESC LIMIT ? OFFSET ?`)
      .all(...params, page.limit, page.offset) as ExecutionRow[];
    return { total, items: this.assemble(rows) };
  }

  async listUnfinished(): Promise<Execution[]> {
    const rows = this.selectUnfinished.all() as ExecutionRow[];
    return this.assemble(rows);
  }

  async prune(policy: RetentionPolicy): Promise<number> {
    const finishedAndOld = `status IN (${FINISHED_SQL}) AND created_at < ?`;
    const result = policy.keep <= 0
      ? this.db.prepare(`DELETE FROM executions WHERE ${finishedAndOld}`).run(policy.olderThan.toISOString())
      : this.db.prepare(`DELETE FROM executions WHERE ${finishedAndOld}
          AND id < coalesce((SELECT id FROM executions ORDER BY id DESC LIMIT 1 OFFSET ?), '')`)
        .run(policy.olderThan.toISOString(), policy.keep - 1);
    if (result.changes > 0) this.db.pragma('incremental_vacuum');
    return result.changes;
  }

  /** Rows to executions; a row whose JSON cannot be read is set aside with a warning and left out. */
  private assemble(rows: ExecutionRow[]): Execution[] {
    if (rows.length === 0) return [];
    const placeholders = rows.map(() => '?').join(',');
    const actionRows = this.db.prepare(`SELECT execution_id, layer, idx, record FROM execution_actions WHERE execution_id IN (${placeholders}) ORDER BY execution_id, layer, idx`)
      .all(...rows.map((r) => r.id)) as ActionRow[];
    const actions = actionsByExecution(actionRows);
    const result: Execution[] = [];
    for (const row of rows) {
      try {
        result.push(executionFromRows(row, actions.get(row.id) ?? []));
      } catch (e) {
        this.setAsideExecution(row, e);
      }
    }
    return result;
  }

  private setAsideExecution(row: ExecutionRow, error: unknown): void {
    log.warn({ execution_id: row.id, err: (error as Error).message }, 'execution record is unreadable: set aside');
    this.db.transaction(() => {
      const actions = this.db.prepare('SELECT layer, idx, record FROM execution_actions WHERE execution_id = ?').all(row.id);
      setAside(this.db, `executions/${row.id}`, (error as Error).message, JSON.stringify({ record: row.record, actions }));
      this.db.prepare('DELETE FROM executions WHERE id = ?').run(row.id);
    }).immediate();
  }
}

function conditions(filter: NonNullable<ExecutionPage['filter']>): { where: string; params: unknown[] } {
  const clauses: string[] = [];
  const params: unknown[] = [];
  if (filter.status?.length) {
    clauses.push(`status IN (${filter.status.map(() => '?').join(',')})`);
    params.push(...filter.status);
  }
  if (filter.kind?.length) {
    clauses.push(`kind IN (${filter.kind.map(() => '?').join(',')})`);
    params.push(...filter.kind);
  }
  if (filter.since) {
    clauses.push('created_at >= ?');
    params.push(filter.since);
  }
  if (filter.before) {
    clauses.push('id < ?');
    params.push(filter.before);
  }
  return { where: clauses.length ? `WHERE ${clauses.join(' AND ')}` : '', params };
}

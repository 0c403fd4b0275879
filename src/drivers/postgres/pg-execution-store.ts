import { ActionRecord, Execution, FINISHED_STATUSES, isFinished, kindOf } from '../../domain/execution';
import { ExecutionFilter, ExecutionPage, ExecutionStore, RetentionPolicy } from '../../ports/execution-store';
import { log } from '../../log';
import { ActionRow, actionsByExecution, executionFromRows, ExecutionRow, storedRecordJson } from '../stored-execution';
import { PgDatabase, setAside } from './database';

/** One write of an execution, as it was when `save` was called. */
interface Snapshot {
  id: string;
  status: string;
  kind: string;
  createdAt: string;
  finishedAt: string | null;
  record: string;
  actions: { layer: number; idx: number; status: string; json: string }[];
  finished: boolean;
}

/**
 * Executions in PostgreSQL, laid out as on SQLite (one row per execution, one per action; only the
 * actions that changed since the last write are written again). Callers do not wait for one write
 * before asking for the next, so the writes of one execution are chained: they land in the order
 * they were asked for, each with the record as it was when asked.
 */
export class PgExecutionStore implements ExecutionStore {
  private readonly written = new Map<string, Map<string, string>>();
  private readonly chains = new Map<string, Promise<unknown>>();

  constructor(private readonly db: PgDatabase) {}

  save(execution: Execution): Promise<void> {
    const { steps } = execution;
    const snapshot: Snapshot = {
      id: execution.id, status: execution.status, kind: kindOf(execution), createdAt: execution.created_at, finishedAt: execution.finished_at ?? null,
      record: storedRecordJson(execution), finished: isFinished(execution.status),
      actions: steps.flatMap((layer, l) => layer.map((action, i) => ({ layer: l, idx: i, status: action.status, json: JSON.stringify(action) }))),
    };
    return this.chain(execution.id, () => this.write(snapshot));
  }

  saveAction(executionId: string, layer: number, index: number, action: ActionRecord): Promise<void> {
    const json = JSON.stringify(action);
    return this.chain(executionId, async () => {
      await this.db.write((c) => c.query(`INSERT INTO execution_actions (execution_id, layer, idx, status, record) VALUES ($1, $2, $3, $4, $5)
        ON CONFLICT (execution_id, layer, idx) DO UPDATE SET status = excluded.status, record = excluded.record`, [executionId, layer, index, action.status, json]));
      this.written.get(executionId)?.set(`${layer}:${index}`, json);
    });
  }

  async get(id: string): Promise<Execution | undefined> {
    const rows = await this.db.query<ExecutionRow>('SELECT id, record, epoch FROM executions WHERE id = $1', [id]);
    return (await this.assemble(rows))[0];
  }

  async list(page: ExecutionPage): Promise<{ total: number; items: Execution[] }> {
    const { where, params } = conditions(page.filter ?? {});
    const total = Number((await this.db.query<{ n: string }>(`SELECT count(*) AS n FROM executions ${where}`, params))[0].n);
    const rows = await this.db.query<ExecutionRow>(
      `SELECT id, record, epoch FROM executions ${where} ORDER BY id DESC LIMIT $${params.length + 1} OFFSET $${params.length + 2}`, [...params, page.limit, page.offset]);
    return { total, items: await this.assemble(rows) };
  }

  async listUnfinished(): Promise<Execution[]> {
    return this.assemble(await this.db.query<ExecutionRow>("SELECT id, record, epoch FROM executions WHERE status IN ('queued', 'running') ORDER BY id"));
  }

  async prune(policy: RetentionPolicy): Promise<number> {
    const finishedAndOld = 'status = ANY($1::text[]) AND created_at < $2';
    return this.db.write(async (c) => {
      const result = policy.keep <= 0
        ? await c.query(`DELETE FROM executions WHERE ${finishedAndOld}`, [FINISHED_STATUSES, policy.olderThan.toISOString()])
        : await c.query(`DELETE FROM executions WHERE ${finishedAndOld}
            AND id < coalesce((SELECT id FROM executions ORDER BY id DESC LIMIT 1 OFFSET $3), '')`, [FINISHED_STATUSES, policy.olderThan.toISOString(), policy.keep - 1]);
      return result.rowCount ?? 0;
    });
  }

  private chain<T>(id: string, step: () => Promise<T>): Promise<T> {
    const previous = this.chains.get(id) ?? Promise.resolve();
    const next = previous.catch(() => undefined).then(step);
    const tail = next.catch(() => undefined);
    this.chains.set(id, tail);
    void tail.then(() => { if (this.chains.get(id) === tail) this.chains.delete(id); });
    return next;
  }

  private async write(s: Snapshot): Promise<void> {
    let cache = this.written.get(s.id);
    if (!cache) this.written.set(s.id, (cache = new Map()));
    const known = cache;
    const changes = s.actions.filter((a) => known.get(`${a.layer}:${a.idx}`) !== a.json);
    await this.db.write(async (c, fence) => {
      // The leader that writes it unfinished runs it; one that finishes it for another (`interrupted`) leaves the epoch.
      await c.query(`INSERT INTO executions (id, status, kind, created_at, finished_at, record, epoch) VALUES ($1, $2, $3, $4, $5, $6, $7)
        ON CONFLICT (id) DO UPDATE SET status = excluded.status, kind = excluded.kind, finished_at = excluded.finished_at, record = excluded.record,
          epoch = CASE WHEN $8 THEN coalesce(executions.epoch, excluded.epoch) ELSE excluded.epoch END`,
      [s.id, s.status, s.kind, s.createdAt, s.finishedAt, s.record, fence?.epoch ?? null, s.finished]);
      // A new set of actions (the first decision, or a record written whole): drop any earlier ones.
      if (changes.length > 0 && known.size === 0) await c.query('DELETE FROM execution_actions WHERE execution_id = $1', [s.id]);
      if (changes.length > 0) {
        await c.query(`INSERT INTO execution_actions (execution_id, layer, idx, status, record)
          SELECT $1, * FROM unnest($2::int[], $3::int[], $4::text[], $5::text[])
          ON CONFLICT (execution_id, layer, idx) DO UPDATE SET status = excluded.status, record = excluded.record`,
        [s.id, changes.map((a) => a.layer), changes.map((a) => a.idx), changes.map((a) => a.status), changes.map((a) => a.json)]);
      }
    });
    if (s.finished) this.written.delete(s.id);
    else for (const a of changes) known.set(`${a.layer}:${a.idx}`, a.json);
  }

  /** Rows to executions; a row whose JSON cannot be read is set aside with a warning and left out. */
  private async assemble(rows: ExecutionRow[]): Promise<Execution[]> {
    if (rows.length === 0) return [];
    const actionRows = await this.db.query<ActionRow>(
      'SELECT execution_id, layer, idx, record FROM execution_actions WHERE execution_id = ANY($1::text[]) ORDER BY execution_id, layer, idx', [rows.map((r) => r.id)]);
    const actions = actionsByExecution(actionRows);
    const result: Execution[] = [];
    for (const row of rows) {
      try {
        result.push(executionFromRows(row, actions.get(row.id) ?? []));
      } catch (e) {
        log.warn({ execution_id: row.id, err: (e as Error).message }, 'execution record is unreadable: set aside');
        const content = JSON.stringify({ record: row.record, actions: (actions.get(row.id) ?? []).map(({ layer, idx, record }) => ({ layer, idx, record })) });
        await setAside(this.db, `executions/${row.id}`, (e as Error).message, content, { sql: 'DELETE FROM executions WHERE id = $1', params: [row.id] });
      }
    }
    return result;
  }
}

function conditions(filter: ExecutionFilter): { where: string; params: unknown[] } {
  const clauses: string[] = [];
  const params: unknown[] = [];
  const param = (value: unknown) => `$${params.push(value)}`;
  if (filter.status?.length) clauses.push(`status = ANY(${param(filter.status)}::text[])`);
  if (filter.kind?.length) clauses.push(`kind = ANY(${param(filter.kind)}::text[])`);
  if (filter.since) clauses.push(`created_at >= ${param(filter.since)}`);
  if (filter.before) clauses.push(`id < ${param(filter.before)}`);
  return { where: clauses.length ? `WHERE ${clauses.join(' AND ')}` : '', params };
}

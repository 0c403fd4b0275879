import { Job, JobTemplate, TERMINAL_JOB_STATUSES } from '../../domain/job';
import { log } from '../../log';
import { TaskStream } from '../../ports/container-runtime';
import { RetentionPolicy } from '../../ports/execution-store';
import { JobFilter, JobStore } from '../../ports/job-store';
import { setAside, SqliteDatabase } from './database';

const TERMINAL_SQL = TERMINAL_JOB_STATUSES.map((s) => `'${s}'`).join(', ');

interface Row {
  id: string;
  record: string;
}

/**
 * Jobs in SQLite: one row per job (its attempts in the record), one per template, and the kept
 * tail of each attempt's streams, trimmed from the front as output arrives. A record that does not
 * read is set aside with a warning and left out.
 */
export class SqliteJobStore implements JobStore {
  constructor(private readonly db: SqliteDatabase) {}

  async putTemplate(template: JobTemplate): Promise<void> {
    this.db.prepare('INSERT INTO job_templates (name, record) VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET record = excluded.record')
      .run(template.name, JSON.stringify(template));
  }

  async getTemplate(name: string): Promise<JobTemplate | undefined> {
    const row = this.db.prepare('SELECT record FROM job_templates WHERE name = ?').get(name) as { record: string } | undefined;
    return row ? this.read<JobTemplate>('job_templates', name, row.record) : undefined;
  }

  async listTemplates(): Promise<JobTemplate[]> {
    const rows = this.db.prepare('SELECT name AS id, record FROM job_templates ORDER BY name').all() as Row[];
    return rows.map((r) => this.read<JobTemplate>('job_templates', r.id, r.record)).filter((t): t is JobTemplate => t !== undefined);
  }

  async deleteTemplate(name: string): Promise<boolean> {
    return this.db.prepare('DELETE FROM job_templates WHERE name = ?').run(name).changes > 0;
  }

  async saveJob(job: Job): Promise<void> {
    this.db.prepare(`INSERT INTO jobs (id, template, status, idempotency_key, created_at, record) VALUES (?, ?, ?, ?, ?, ?)
      ON CONFLICT (id) DO UPDATE SET status = excluded.status, record = excluded.record`)
      .run(job.id, job.template, job.status, job.idempotency_key ?? null, job.created_at, JSON.stringify(job));
  }

  async getJob(id: string): Promise<Job | undefined> {
    const row = this.db.prepare('SELECT id, record FROM jobs WHERE id = ?').get(id) as Row | undefined;
    return row ? this.read<Job>('jobs', row.id, row.record) : undefined;
  }

  async findByIdempotencyKey(key: string): Promise<Job | undefined> {
    const row = this.db.prepare('SELECT id, record FROM jobs WHERE idempotency_key = ?').get(key) as Row | undefined;
    return row ? this.read<Job>('jobs', row.id, row.record) : undefined;
  }

  async listJobs(filter: JobFilter): Promise<Job[]> {
    const where: string[] = [];
    const params: unknown[] = [];
    if (filter.status && filter.status.length > 0) {
      where.push(`status IN (${filter.status.map(() => '?').join(', ')})`);
      params.push(...filter.status);
    }
    if (filter.template !== undefined) { where.push('template = ?'); params.push(filter.template); }
    if (filter.before !== undefined) { where.push('id < ?'); params.push(filter.before); }
    const sql = `SELECT id, record FROM jobs ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY id DESC LIMIT ?`;
    const rows = this.db.prepare(sql).all(...params, filter.limit) as Row[];
    return this.readAll(rows);
  }

  async listUnfinished(): Promise<Job[]> {
    const rows = this.db.prepare(`SELECT id, record FROM jobs WHERE status NOT IN (${TERMINAL_SQL}) ORDER BY id`).all() as Row[];
    return this.readAll(rows);
  }

  async appendLog(jobId: string, attempt: number, stream: TaskStream, data: Buffer, keepBytes: number): Promise<void> {
    // substr over a BLOB counts bytes; a negative start keeps the last keepBytes.
    this.db.prepare(`INSERT INTO job_logs (job_id, attempt, stream, content) VALUES (?, ?, ?, substr(?, -?))
      ON CONFLICT (job_id, attempt, stream) DO UPDATE SET content = substr(job_logs.content || excluded.content, -?)`)
      .run(jobId, attempt, stream, data, keepBytes, keepBytes);
  }

  async replaceLog(jobId: string, attempt: number, stream: TaskStream, data: Buffer): Promise<void> {
    this.db.prepare(`INSERT INTO job_logs (job_id, attempt, stream, content) VALUES (?, ?, ?, ?)
      ON CONFLICT (job_id, attempt, stream) DO UPDATE SET content = excluded.content`).run(jobId, attempt, stream, data);
  }

  async readLog(jobId: string, attempt: number, stream: TaskStream): Promise<Buffer> {
    const row = this.db.prepare('SELECT content FROM job_logs WHERE job_id = ? AND attempt = ? AND stream = ?').get(jobId, attempt, stream) as { content: Buffer } | undefined;
    return row ? Buffer.from(row.content) : Buffer.alloc(0);
  }

  async prune(policy: RetentionPolicy): Promise<number> {
    const terminalAndOld = `status IN (${TERMINAL_SQL}) AND created_at < ?`;
    const result = policy.keep <= 0
      ? this.db.prepare(`DELETE FROM jobs WHERE ${terminalAndOld}`).run(policy.olderThan.toISOString())
      : this.db.prepare(`DELETE FROM jobs WHERE ${terminalAndOld}
          AND id < coalesce((SELECT id FROM jobs WHERE status IN (${TERMINAL_SQL}) ORDER BY id DESC LIMIT 1 OFFSET ?), '')`)
        .run(policy.olderThan.toISOString(), policy.keep - 1);
    return result.changes;
  }

  private readAll(rows: Row[]): Job[] {
    return rows.map((r) => this.read<Job>('jobs', r.id, r.record)).filter((j): j is Job => j !== undefined);
  }

  private read<T>(table: 'jobs' | 'job_templates', id: string, text: string): T | undefined {
    try {
      return JSON.parse(text) as T;
    } catch (e) {
      log.warn({ table, id, err: (e as Error).message }, 'stored job record is unreadable: set aside');
      this.db.transaction(() => {
        setAside(this.db, `${table}/${id}`, (e as Error).message, text);
        this.db.prepare(`DELETE FROM ${table} WHERE ${table === 'jobs' ? 'id' : 'name'} = ?`).run(id);
      }).immediate();
      return undefined;
    }
  }
}

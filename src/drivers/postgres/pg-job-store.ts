import { Job, JobTemplate, TERMINAL_JOB_STATUSES } from '../../domain/job';
import { log } from '../../log';
import { TaskStream } from '../../ports/container-runtime';
import { RetentionPolicy } from '../../ports/execution-store';
import { JobFilter, JobStore } from '../../ports/job-store';
import { PgDatabase, setAside } from './database';

interface Row {
  id: string;
  record: string;
}

const TERMINAL = [...TERMINAL_JOB_STATUSES];

/** Jobs in PostgreSQL, with the same tables and answers as on SQLite (src/drivers/sqlite/sqlite-job-store.ts). */
export class PgJobStore implements JobStore {
  constructor(private readonly db: PgDatabase) {}

  async putTemplate(template: JobTemplate): Promise<void> {
    await this.db.write((c) => c.query('INSERT INTO job_templates (name, record) VALUES ($1, $2) ON CONFLICT (name) DO UPDATE SET record = excluded.record',
      [template.name, JSON.stringify(template)]));
  }

  async getTemplate(name: string): Promise<JobTemplate | undefined> {
    const row = (await this.db.query<Row>('SELECT name AS id, record FROM job_templates WHERE name = $1', [name]))[0];
    return row ? this.read<JobTemplate>('job_templates', row) : undefined;
  }

  async listTemplates(): Promise<JobTemplate[]> {
    const rows = await this.db.query<Row>('SELECT name AS id, record FROM job_templates ORDER BY name');
    const out: JobTemplate[] = [];
    for (const row of rows) {
      const t = await this.read<JobTemplate>('job_templates', row);
      if (t) out.push(t);
    }
    return out;
  }

  async deleteTemplate(name: string): Promise<boolean> {
    return this.db.write(async (c) => ((await c.query('DELETE FROM job_templates WHERE name = $1', [name])).rowCount ?? 0) > 0);
  }

  async saveJob(job: Job): Promise<void> {
    await this.db.write((c) => c.query(`INSERT INTO jobs (id, template, status, idempotency_key, created_at, record) VALUES ($1, $2, $3, $4, $5, $6)
      ON CONFLICT (id) DO UPDATE SET status = excluded.status, record = excluded.record`,
    [job.id, job.template, job.status, job.idempotency_key ?? null, job.created_at, JSON.stringify(job)]));
  }

  async getJob(id: string): Promise<Job | undefined> {
    const row = (await this.db.query<Row>('SELECT id, record FROM jobs WHERE id = $1', [id]))[0];
    return row ? this.read<Job>('jobs', row) : undefined;
  }

  async findByIdempotencyKey(key: string): Promise<Job | undefined> {
    const row = (await this.db.query<Row>('SELECT id, record FROM jobs WHERE idempotency_key = $1', [key]))[0];
    return row ? this.read<Job>('jobs', row) : undefined;
  }

  async listJobs(filter: JobFilter): Promise<Job[]> {
    const where: string[] = [];
    const params: unknown[] = [];
    if (filter.status && filter.status.length > 0) { params.push(filter.status); where.push(`status = ANY($${params.length}::text[])`); }
    if (filter.template !== undefined) { params.push(filter.template); where.push(`template = $${params.length}`); }
    if (filter.before !== undefined) { params.push(filter.before); where.push(`id < $${params.length}`); }
    params.push(filter.limit);
    const rows = await this.db.query<Row>(`SELECT id, record FROM jobs ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY id DESC LIMIT $${params.length}`, params);
    return this.readAll(rows);
  }

  async listUnfinished(): Promise<Job[]> {
    return this.readAll(await this.db.query<Row>('SELECT id, record FROM jobs WHERE NOT (status = ANY($1::text[])) ORDER BY id', [TERMINAL]));
  }

  async appendLog(jobId: string, attempt: number, stream: TaskStream, data: Buffer, keepBytes: number): Promise<void> {
    await this.db.write((c) => c.query(`INSERT INTO job_logs (job_id, attempt, stream, content) VALUES ($1, $2, $3, substring($4::bytea from greatest(1, length($4::bytea) - $5 + 1)))
      ON CONFLICT (job_id, attempt, stream) DO UPDATE SET content = substring(job_logs.content || excluded.content from greatest(1, length(job_logs.content || excluded.content) - $5 + 1))`,
    [jobId, attempt, stream, data, keepBytes]));
  }

  async replaceLog(jobId: string, attempt: number, stream: TaskStream, data: Buffer): Promise<void> {
    await this.db.write((c) => c.query(`INSERT INTO job_logs (job_id, attempt, stream, content) VALUES ($1, $2, $3, $4)
      ON CONFLICT (job_id, attempt, stream) DO UPDATE SET content = excluded.content`, [jobId, attempt, stream, data]));
  }

  async readLog(jobId: string, attempt: number, stream: TaskStream): Promise<Buffer> {
    const row = (await this.db.query<{ content: Buffer }>('SELECT content FROM job_logs WHERE job_id = $1 AND attempt = $2 AND stream = $3', [jobId, attempt, stream]))[0];
    return row ? Buffer.from(row.content) : Buffer.alloc(0);
  }

  async prune(policy: RetentionPolicy): Promise<number> {
    const terminalAndOld = 'status = ANY($1::text[]) AND created_at < $2';
    return this.db.write(async (c) => {
      const result = policy.keep <= 0
        ? await c.query(`DELETE FROM jobs WHERE ${terminalAndOld}`, [TERMINAL, policy.olderThan.toISOString()])
        : await c.query(`DELETE FROM jobs WHERE ${terminalAndOld}
            AND id < coalesce((SELECT id FROM jobs WHERE status = ANY($1::text[]) ORDER BY id DESC LIMIT 1 OFFSET $3), '')`, [TERMINAL, policy.olderThan.toISOString(), policy.keep - 1]);
      return result.rowCount ?? 0;
    });
  }

  private async readAll(rows: Row[]): Promise<Job[]> {
    const out: Job[] = [];
    for (const row of rows) {
      const job = await this.read<Job>('jobs', row);
      if (job) out.push(job);
    }
    return out;
  }

  private async read<T>(table: 'jobs' | 'job_templates', row: Row): Promise<T | undefined> {
    try {
      return JSON.parse(row.record) as T;
    } catch (e) {
      log.warn({ table, id: row.id, err: (e as Error).message }, 'stored job record is unreadable: set aside');
      await setAside(this.db, `${table}/${row.id}`, (e as Error).message, row.record,
        { sql: `DELETE FROM ${table} WHERE ${table === 'jobs' ? 'id' : 'name'} = $1`, params: [row.id] });
      return undefined;
    }
  }
}

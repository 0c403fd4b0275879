import { promises as fs } from 'fs';
import * as os from 'os';
import * as path from 'path';
import { Job, JobTemplate } from '../../src/domain/job';
import { openPgDatabase, PgDatabase } from '../../src/drivers/postgres/database';
import { PgJobStore } from '../../src/drivers/postgres/pg-job-store';
import { openSqliteState } from '../../src/drivers/sqlite/sqlite-state';
import { JobStore } from '../../src/ports/job-store';
import { freshDatabase, startPostgres, TestPostgres } from '../support/postgres';

/** One contract for the job store on SQLite (a real file) and PostgreSQL (a real server). */

interface Opened {
  jobs: JobStore;
  corrupt(id: string): Promise<void>;
  setAside(): Promise<string[]>;
  close(): Promise<void>;
}

interface Backend {
  name: string;
  setUp(): Promise<void>;
  tearDown(): Promise<void>;
  fresh(): Promise<void>;
  open(): Promise<Opened>;
}

function sqliteBackend(): Backend {
  let dir = '';
  return {
    name: 'SQLite',
    setUp: async () => undefined,
    tearDown: async () => { if (dir) await fs.rm(dir, { recursive: true, force: true }); },
    fresh: async () => {
      if (dir) await fs.rm(dir, { recursive: true, force: true });
      dir = await fs.mkdtemp(path.join(os.tmpdir(), 'ecoware-jobs-'));
    },
    open: async () => {
      const state = await openSqliteState(dir);
      return {
        jobs: state.jobs,
        corrupt: async (id) => { state.db.prepare('UPDATE jobs SET record = ? WHERE id = ?').run('{not json', id); },
        setAside: async () => (state.db.prepare('SELECT source FROM set_aside ORDER BY seq').all() as { source: string }[]).map((r) => r.source),
        close: async () => state.close(),
      };
    },
  };
}

function postgresBackend(): Backend {
  let server: TestPostgres | undefined;
  let url = '';
  let n = 0;
  return {
    name: 'PostgreSQL',
    setUp: async () => { server = await startPostgres(); },
    tearDown: async () => { await server?.remove(); },
    fresh: async () => { url = await freshDatabase(server!, `jobs_${++n}`); },
    open: async () => {
      const db: PgDatabase = await openPgDatabase(url);
      return {
        jobs: new PgJobStore(db),
        corrupt: async (id) => { await db.query('UPDATE jobs SET record = $1 WHERE id = $2', ['{not json', id]); },
        setAside: async () => (await db.query<{ source: string }>('SELECT source FROM set_aside ORDER BY seq')).map((r) => r.source),
        close: () => db.close(),
      };
    },
  };
}

let seq = 0;
function job(overrides: Partial<Job> = {}): Job {
  seq++;
  return {
    id: `j20260101T${String(seq).padStart(9, '0')}000-abc123`,
    template: 'count', status: 'succeeded', priority: 0,
    spec: { image: 'busybox', env: {}, cpu_cores: 1, mem_units: 1, retries: 0, retry_on: ['node_lost'], input_mode: 'arg', keep_logs_kib: 1 },
    created_at: new Date(Date.UTC(2026, 0, 1) + seq * 1000).toISOString(),
    attempts: [{ n: 1, node: 'n1', container: `ecoware-job-x-1`, cpuset: [0], started_at: '2026-01-01T00:00:00.000Z', ended_at: '2026-01-01T00:00:01.000Z', exit_code: 0, reason: 'exit' }],
    ...overrides,
  };
}

const template: JobTemplate = {
  name: 'count', rev: 1, status: 'ready', image: 'busybox', env: { A: '1' }, cpu_cores: 2, mem_units: 1, retries: 1, retry_on: ['node_lost', 'oom'],
  input: { mode: 'stdin', max_bytes: 100 }, keep_logs_kib: 4, created_at: '2026-01-01T00:00:00.000Z', updated_at: '2026-01-01T00:00:00.000Z',
};

describe.each([sqliteBackend(), postgresBackend()])('the job store on $name', (backend) => {
  let state: Opened | undefined;
  beforeAll(() => backend.setUp(), 60_000);
  afterAll(() => backend.tearDown(), 60_000);
  beforeEach(async () => {
    await backend.fresh();
    state = await backend.open();
  });
  afterEach(async () => {
    await state?.close();
    state = undefined;
  });
  const reopen = async (): Promise<JobStore> => {
    await state?.close();
    state = await backend.open();
    return state.jobs;
  };

  it('keeps templates and jobs whole across a reopen; a read removes nothing', async () => {
    await state!.jobs.putTemplate(template);
    const j = job({ status: 'running', idempotency_key: 'k1' });
    await state!.jobs.saveJob(j);
    j.status = 'succeeded';
    j.output = 'done';
    await state!.jobs.saveJob(j);
    const s = await reopen();
    expect(await s.getTemplate('count')).toEqual(template);
    expect(await s.listTemplates()).toEqual([template]);
    expect(await s.getJob(j.id)).toEqual(j);
    expect(await s.getJob(j.id)).toEqual(j);
    expect(await s.findByIdempotencyKey('k1')).toEqual(j);
    expect(await s.findByIdempotencyKey('k2')).toBeUndefined();
    expect(await s.deleteTemplate('count')).toBe(true);
    expect(await s.deleteTemplate('count')).toBe(false);
  });

  it('lists newest first, by status and template, with keyset pages; unfinished oldest first', async () => {
    const a = job({ status: 'queued' });
    const b = job({ status: 'running', template: 'other' });
    const c = job({ status: 'failed' });
    for (const j of [a, b, c]) await state!.jobs.saveJob(j);
    const s = state!.jobs;
    expect((await s.listJobs({ limit: 10 })).map((j) => j.id)).toEqual([c.id, b.id, a.id]);
    expect((await s.listJobs({ limit: 10, status: ['queued', 'failed'] })).map((j) => j.id)).toEqual([c.id, a.id]);
    expect((await s.listJobs({ limit: 10, template: 'other' })).map((j) => j.id)).toEqual([b.id]);
    expect((await s.listJobs({ limit: 1, before: c.id })).map((j) => j.id)).toEqual([b.id]);
    expect((await s.listUnfinished()).map((j) => j.id)).toEqual([a.id, b.id]);
  });

  it('keeps the last bytes of each stream of each attempt, trimmed from the front', async () => {
    const j = job({ status: 'running' });
    await state!.jobs.saveJob(j);
    await state!.jobs.appendLog(j.id, 1, 'stdout', Buffer.from('0123456789'), 8);
    await state!.jobs.appendLog(j.id, 1, 'stdout', Buffer.from('abc'), 8);
    await state!.jobs.appendLog(j.id, 1, 'stderr', Buffer.from([0xff, 0x00, 0x01]), 8);
    await state!.jobs.appendLog(j.id, 2, 'stdout', Buffer.from('second'), 8);
    const s = await reopen();
    expect((await s.readLog(j.id, 1, 'stdout')).toString()).toBe('56789abc');
    expect([...(await s.readLog(j.id, 1, 'stderr'))]).toEqual([0xff, 0x00, 0x01]);
    expect((await s.readLog(j.id, 2, 'stdout')).toString()).toBe('second');
    expect((await s.readLog(j.id, 3, 'stdout')).length).toBe(0);
    await s.replaceLog(j.id, 1, 'stdout', Buffer.from('again'));
    expect((await s.readLog(j.id, 1, 'stdout')).toString()).toBe('again');
  });

  it('prunes old terminal jobs beyond the newest kept, with their logs, never unfinished ones', async () => {
    const old = job({ status: 'succeeded', created_at: '2020-01-01T00:00:00.000Z' });
    const oldQueued = job({ status: 'queued', created_at: '2020-01-01T00:00:01.000Z' });
    const kept = job({ status: 'failed', created_at: '2020-01-01T00:00:02.000Z' });
    for (const j of [old, oldQueued, kept]) await state!.jobs.saveJob(j);
    await state!.jobs.appendLog(old.id, 1, 'stdout', Buffer.from('x'), 10);
    expect(await state!.jobs.prune({ keep: 1, olderThan: new Date('2021-01-01') })).toBe(1);
    expect(await state!.jobs.getJob(old.id)).toBeUndefined();
    expect((await state!.jobs.readLog(old.id, 1, 'stdout')).length).toBe(0);
    expect(await state!.jobs.getJob(oldQueued.id)).toBeDefined();
    expect(await state!.jobs.getJob(kept.id)).toBeDefined();
    expect(await state!.jobs.prune({ keep: 0, olderThan: new Date('2021-01-01') })).toBe(1);
    expect((await state!.jobs.listJobs({ limit: 10 })).map((j) => j.id)).toEqual([oldQueued.id]);
  });

  it('sets an unreadable job aside instead of failing the listing', async () => {
    const good = job();
    const bad = job();
    await state!.jobs.saveJob(good);
    await state!.jobs.saveJob(bad);
    await state!.corrupt(bad.id);
    expect((await state!.jobs.listJobs({ limit: 10 })).map((j) => j.id)).toEqual([good.id]);
    expect(await state!.setAside()).toEqual([`jobs/${bad.id}`]);
  });
});

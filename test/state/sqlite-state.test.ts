import { execFileSync } from 'child_process';
import { promises as fs, statSync } from 'fs';
import * as os from 'os';
import * as path from 'path';
import Database from 'better-sqlite3';
import { Execution } from '../../src/domain/execution';
import { parseProcessDefinition } from '../../src/schema/process-definition';
import { FileExecutionStore } from '../support/json-layout/file-execution-store';
import { FileProcessDefinitionStore } from '../support/json-layout/file-process-definition-store';
import { FileTopologyStore } from '../support/json-layout/file-topology-store';
import { LeaseHeldError } from '../../src/drivers/sqlite/lease';
import { openSqliteState, SqliteState } from '../../src/drivers/sqlite/sqlite-state';

/** The SQLite state store on real database files: records, filters, retention, the lease, the import. */

let n = 0;
function execution(overrides: Partial<Execution> & { kind?: string } = {}): Execution {
  n++;
  const created = overrides.created_at ?? new Date(Date.UTC(2026, 0, 1) + n * 1000).toISOString();
  return {
    id: `20260101T${String(n).padStart(9, '0')}-abcdef`,
    status: 'succeeded', plan: { a_db: { cpu_cores: 1, mem_units: 1 } }, created_at: created, finished_at: created,
    steps: [[{ description: "create container 'a_db' on vm 'vm1'", action: { type: 'create_container' } as never, status: 'succeeded', hooks: [], progress: [] }]],
    timings_ms: { total: 5 },
    ...overrides,
  } as Execution;
}

describe('SQLite state store', () => {
  let dir: string;
  let state: SqliteState | undefined;

  beforeEach(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'ecoware-sqlite-'));
  });
  afterEach(async () => {
    state?.close();
    state = undefined;
    await fs.rm(dir, { recursive: true, force: true });
  });

  it('keeps executions across a reopen, whole, with WAL and owner-only files', async () => {
    state = await openSqliteState(dir);
    const e = execution({ status: 'running', finished_at: undefined });
    await state.executions.save(e);
    e.steps[0][0].status = 'succeeded';
    e.status = 'succeeded';
    e.finished_at = new Date().toISOString();
    await state.executions.save(e);
    state.close();
    state = await openSqliteState(dir);
    expect(await state.executions.get(e.id)).toEqual(e);
    // Totals follow status changes.
    expect((await state.executions.list({ limit: 1, offset: 0, filter: { status: ['running'] } })).total).toBe(0);
    expect((await state.executions.list({ limit: 1, offset: 0, filter: { status: ['succeeded'], kind: ['plan'] } })).total).toBe(1);
    expect(state.db.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(state.db.pragma('synchronous', { simple: true })).toBe(2); // FULL
    expect(statSync(dir).mode & 0o777).toBe(0o700);
    for (const f of await fs.readdir(dir)) expect([f, statSync(path.join(dir, f)).mode & 0o777]).toEqual([f, 0o600]);
  });

  it('filters by status, kind and time, pages by offset and by keyset, newest first', async () => {
    state = await openSqliteState(dir);
    const saved: Execution[] = [];
    for (let i = 0; i < 30; i++) {
      const e = execution({ status: i % 3 === 0 ? 'failed' : 'succeeded', ...(i % 5 === 0 ? { kind: 'heal' } : {}) });
      saved.push(e);
      await state.executions.save(e);
    }
    const newestFirst = [...saved].reverse();
    const page = await state.executions.list({ limit: 5, offset: 0 });
    expect(page.total).toBe(30);
    expect(page.items.map((e) => e.id)).toEqual(newestFirst.slice(0, 5).map((e) => e.id));
    const failed = await state.executions.list({ limit: 100, offset: 0, filter: { status: ['failed'] } });
    expect(failed.total).toBe(10);
    expect(failed.items.every((e) => e.status === 'failed')).toBe(true);
    const heals = await state.executions.list({ limit: 100, offset: 0, filter: { kind: ['heal'] } });
    expect(heals.items.map((e) => e.id)).toEqual(newestFirst.filter((e) => (e as { kind?: string }).kind === 'heal').map((e) => e.id));
    const since = await state.executions.list({ limit: 100, offset: 0, filter: { since: saved[25].created_at } });
    expect(since.items.map((e) => e.id)).toEqual(newestFirst.slice(0, 5).map((e) => e.id));
    const before = await state.executions.list({ limit: 3, offset: 0, filter: { before: saved[10].id, status: ['succeeded'] } });
    expect(before.items.map((e) => e.id)).toEqual(newestFirst.filter((e) => e.id < saved[10].id && e.status === 'succeeded').slice(0, 3).map((e) => e.id));
  });

  it('lists only unfinished executions for recovery', async () => {
    state = await openSqliteState(dir);
    for (let i = 0; i < 20; i++) await state.executions.save(execution());
    const queued = execution({ status: 'queued', finished_at: undefined, steps: [] });
    const running = execution({ status: 'running', finished_at: undefined });
    await state.executions.save(queued);
    await state.executions.save(running);
    expect((await state.executions.listUnfinished()).map((e) => e.id)).toEqual([queued.id, running.id]);
  });

  it('prunes finished executions past age and count, never unfinished ones', async () => {
    state = await openSqliteState(dir);
    const old = (days: number) => new Date(Date.now() - days * 86_400_000).toISOString();
    const ids: string[] = [];
    for (let i = 0; i < 10; i++) {
      const e = execution({ created_at: old(100 - i) });
      ids.push(e.id);
      await state.executions.save(e);
    }
    const stuck = execution({ created_at: old(200), status: 'running', finished_at: undefined });
    // Ids sort by creation: give the unfinished one an id among the old.
    stuck.id = `${ids[0].slice(0, -7)}0-zzzzzz`;
    await state.executions.save(stuck);
    const recent = execution({ created_at: old(1) });
    await state.executions.save(recent);
    // Keep the newest 4; of those beyond, only the ones older than 30 days go.
    const pruned = await state.executions.prune({ keep: 4, olderThan: new Date(Date.now() - 30 * 86_400_000) });
    expect(pruned).toBe(7);
    const listed = await state.executions.list({ limit: 100, offset: 0 });
    expect(listed.total).toBe(5);
    expect((await state.executions.list({ limit: 100, offset: 0, filter: { status: ['succeeded'] } })).total).toBe(4);
    const left = listed.items.map((e) => e.id).sort();
    expect(left).toEqual([stuck.id, ...ids.slice(7), recent.id].sort());
    expect(await state.db.prepare('SELECT count(*) AS n FROM execution_actions').get()).toEqual({ n: 5 });
  });

  it('prunes superseded executions as it prunes the other finished ones', async () => {
    state = await openSqliteState(dir);
    const merged = execution({ created_at: new Date(Date.now() - 100 * 86_400_000).toISOString(), status: 'superseded' });
    await state.executions.save(merged);
    expect(await state.executions.prune({ keep: 0, olderThan: new Date(Date.now() - 30 * 86_400_000) })).toBe(1);
    expect(await state.executions.get(merged.id)).toBeUndefined();
  });

  it('sets an unreadable record aside with a warning and keeps serving the others', async () => {
    state = await openSqliteState(dir);
    const good = execution();
    const bad = execution();
    await state.executions.save(good);
    await state.executions.save(bad);
    state.db.prepare('UPDATE executions SET record = ? WHERE id = ?').run('{"not json', bad.id);
    const page = await state.executions.list({ limit: 10, offset: 0 });
    expect(page.items.map((e) => e.id)).toEqual([good.id]);
    expect((await state.executions.list({ limit: 10, offset: 0 })).total).toBe(1);
    expect(await state.executions.get(bad.id)).toBeUndefined();
    const aside = state.db.prepare('SELECT source, content FROM set_aside').all() as { source: string; content: string }[];
    expect(aside).toHaveLength(1);
    expect(aside[0].source).toBe(`executions/${bad.id}`);
    expect(aside[0].content).toContain('{\\"not json');
  });

  it('keeps the topology with its history, and the process definitions in order with ids never reused', async () => {
    state = await openSqliteState(dir);
    await state.topologies.save({ apps: [1] });
    await state.topologies.save({ apps: [2] });
    expect(await state.topologies.load()).toEqual({ apps: [2] });
    expect((await state.topologies.history(10)).map((h) => h.document)).toEqual([{ apps: [2] }, { apps: [1] }]);
    const def = parseProcessDefinition({ exec: '/bin/true' }, 'definition');
    expect(await state.processDefinitions.create(def)).toBe('1');
    expect(await state.processDefinitions.put('tune', def)).toEqual({ created: true });
    expect(await state.processDefinitions.create(def)).toBe('2');
    expect(await state.processDefinitions.delete('2')).toBe(true);
    state.close();
    state = await openSqliteState(dir);
    expect(await state.processDefinitions.create(def)).toBe('3');
    expect((await state.processDefinitions.list({ offset: 0 })).items.map((i) => i.id)).toEqual(['1', 'tune', '3']);
    await expect(state.processDefinitions.put('x'.repeat(5000), def)).rejects.toMatchObject({ code: 'invalid' });
  });

  it('refuses a second daemon on the same state dir, naming the holder, and takes over from a dead one', async () => {
    // Same process, two handles: the second is refused while the first is alive.
    state = await openSqliteState(dir);
    const holder = `${os.hostname()}:${process.pid}`;
    const db = new Database(path.join(dir, 'ecoware.db'));
    // Pretend the lease belongs to another live process of this host (our parent).
    db.prepare("UPDATE lease SET holder = ? WHERE name = 'daemon'").run(`${os.hostname()}:${process.ppid}`);
    await expect(openSqliteState(dir)).rejects.toThrow(new RegExp(`in use by ${os.hostname()}:${process.ppid} since`));
    await expect(openSqliteState(dir)).rejects.toBeInstanceOf(LeaseHeldError);
    // A holder of this host that is gone does not keep the state dir.
    const dead = execFileSync(process.execPath, ['-e', 'console.log(process.pid)']).toString().trim();
    db.prepare("UPDATE lease SET holder = ? WHERE name = 'daemon'").run(`${os.hostname()}:${dead}`);
    db.close();
    state.close();
    state = await openSqliteState(dir);
    expect(state.lease.holder).toBe(holder);
  });

  it('imports the JSON-file layout once, setting aside what it cannot read, and renames the old files', async () => {
    const executions = new FileExecutionStore(dir);
    const saved: Execution[] = [];
    for (let i = 0; i < 5; i++) {
      const e = execution({ status: i === 4 ? 'running' : 'succeeded' });
      saved.push(e);
      await executions.save(e);
    }
    await fs.writeFile(path.join(dir, 'executions', 'broken.json'), '{"id": "broken", ');
    await new FileTopologyStore(dir).save({ infrastructure: { hooks_git_repo: 'https://u:secret@example.invalid/h.git' }, apps: [] });
    const defs = new FileProcessDefinitionStore(dir);
    const def = parseProcessDefinition({ exec: '/bin/echo hi' }, 'definition');
    await defs.create(def);
    await defs.put('named', def);
    await defs.create(def);
    await defs.delete('2');

    state = await openSqliteState(dir);
    expect(state.imported).toEqual({ topology: true, processDefinitions: 2, executions: 5, setAside: 1 });
    expect((await state.executions.list({ limit: 10, offset: 0 })).items.map((e) => e.id)).toEqual(saved.map((e) => e.id).reverse());
    expect(await state.executions.get(saved[2].id)).toEqual(saved[2]);
    expect((await state.executions.listUnfinished()).map((e) => e.id)).toEqual([saved[4].id]);
    expect(await state.topologies.load()).toMatchObject({ infrastructure: { hooks_git_repo: 'https://u:secret@example.invalid/h.git' } });
    expect((await state.processDefinitions.list({ offset: 0 })).items.map((i) => i.id)).toEqual(['1', 'named']);
    expect(await state.processDefinitions.create(def)).toBe('3');
    expect((await fs.readdir(dir)).sort()).toEqual(['ecoware.db', 'ecoware.db-shm', 'ecoware.db-wal', 'executions.imported', 'process-definitions.json.imported', 'topology.json.imported']);
    state.close();
    // A second start imports nothing again.
    state = await openSqliteState(dir);
    expect(state.imported).toBeUndefined();
    expect((await state.executions.list({ limit: 10, offset: 0 })).total).toBe(5);
  });
});

import { promises as fs } from 'fs';
import * as os from 'os';
import * as path from 'path';
import { Execution } from '../../src/domain/execution';
import { parseProcessDefinition } from '../../src/schema/process-definition';
import { openPgDatabase, PgDatabase } from '../../src/drivers/postgres/database';
import { PgExecutionStore } from '../../src/drivers/postgres/pg-execution-store';
import { PgProcessDefinitionStore } from '../../src/drivers/postgres/pg-process-definition-store';
import { PgTopologyStore } from '../../src/drivers/postgres/pg-topology-store';
import { PgSystemStore } from '../../src/drivers/postgres/pg-system-store';
import { PgNodeStateStore } from '../../src/drivers/postgres/pg-node-state-store';
import { newSystem } from '../../src/domain/system';
import { NodeStateStore } from '../../src/ports/node-state-store';
import { SystemStore } from '../../src/ports/system-store';
import { openSqliteState, SqliteState } from '../../src/drivers/sqlite/sqlite-state';
import { ExecutionStore } from '../../src/ports/execution-store';
import { ProcessDefinitionStore } from '../../src/ports/process-definition-store';
import { TopologyStore } from '../../src/ports/state-store';
import { freshDatabase, startPostgres, TestPostgres } from '../support/postgres';

/**
 * One contract for every state backend: the same records, filters, keyset pages, totals,
 * retention and set-aside answers on SQLite (a real file) and on PostgreSQL (a real server).
 */

interface Stores {
  executions: ExecutionStore;
  processDefinitions: ProcessDefinitionStore;
  topologies: Required<TopologyStore>;
  systems: SystemStore;
  nodeStates: NodeStateStore;
  /** Overwrites a system's stored record with text that is not JSON. */
  corruptSystem(sid: string, text: string): Promise<void>;
  /** Overwrites an execution's stored record with text that is not JSON. */
  corruptExecution(id: string, text: string): Promise<void>;
  count(table: 'execution_actions'): Promise<number>;
  setAside(): Promise<{ source: string; content: string }[]>;
  close(): Promise<void>;
}

interface Backend {
  name: string;
  setUp(): Promise<void>;
  tearDown(): Promise<void>;
  /** A new, empty state. */
  fresh(): Promise<void>;
  /** Opens the current state (again). */
  open(): Promise<Stores>;
}

function sqliteBackend(): Backend {
  let dir = '';
  return {
    name: 'SQLite',
    setUp: async () => undefined,
    tearDown: async () => { if (dir) await fs.rm(dir, { recursive: true, force: true }); },
    fresh: async () => {
      if (dir) await fs.rm(dir, { recursive: true, force: true });
      dir = await fs.mkdtemp(path.join(os.tmpdir(), 'ecoware-contract-'));
    },
    open: async () => {
      const state: SqliteState = await openSqliteState(dir);
      return {
        executions: state.executions, processDefinitions: state.processDefinitions, topologies: state.topologies,
        systems: state.systems, nodeStates: state.nodeStates,
        corruptSystem: async (sid, text) => { state.db.prepare('UPDATE systems SET record = ? WHERE sid = ?').run(text, sid); },
        corruptExecution: async (id, text) => { state.db.prepare('UPDATE executions SET record = ? WHERE id = ?').run(text, id); },
        count: async (table) => (state.db.prepare(`SELECT count(*) AS n FROM ${table}`).get() as { n: number }).n,
        setAside: async () => state.db.prepare('SELECT source, content FROM set_aside ORDER BY seq').all() as { source: string; content: string }[],
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
    fresh: async () => { url = await freshDatabase(server!, `contract_${++n}`); },
    open: async () => {
      const db: PgDatabase = await openPgDatabase(url);
      return {
        executions: new PgExecutionStore(db), processDefinitions: new PgProcessDefinitionStore(db), topologies: new PgTopologyStore(db),
        systems: await PgSystemStore.open(db), nodeStates: new PgNodeStateStore(db),
        corruptSystem: async (sid, text) => { await db.query('UPDATE systems SET record = $1 WHERE sid = $2', [text, sid]); },
        corruptExecution: async (id, text) => { await db.query('UPDATE executions SET record = $1 WHERE id = $2', [text, id]); },
        count: async (table) => Number((await db.query<{ n: string }>(`SELECT count(*) AS n FROM ${table}`))[0].n),
        setAside: async () => db.query<{ source: string; content: string }>('SELECT source, content FROM set_aside ORDER BY seq'),
        close: () => db.close(),
      };
    },
  };
}

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

describe.each([sqliteBackend(), postgresBackend()])('state stores on $name', (backend) => {
  let state: Stores | undefined;

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
  const reopen = async (): Promise<Stores> => {
    await state?.close();
    state = await backend.open();
    return state;
  };

  it('keeps executions across a reopen, whole, with totals that follow status changes', async () => {
    const e = execution({ status: 'running', finished_at: undefined });
    void state!.executions.save(e);
    e.steps[0][0].status = 'succeeded';
    e.status = 'succeeded';
    e.finished_at = new Date().toISOString();
    // Not waiting for the first write: the second still lands last.
    await state!.executions.save(e);
    const s = await reopen();
    expect(await s.executions.get(e.id)).toEqual(e);
    expect((await s.executions.list({ limit: 1, offset: 0, filter: { status: ['running'] } })).total).toBe(0);
    expect((await s.executions.list({ limit: 1, offset: 0, filter: { status: ['succeeded'], kind: ['plan'] } })).total).toBe(1);
  });

  it('writes one action at a time and reads the record back with it', async () => {
    const e = execution({ status: 'running', finished_at: undefined });
    e.steps[0][0].status = 'running';
    await state!.executions.save(e);
    await state!.executions.saveAction!(e.id, 0, 0, { ...e.steps[0][0], status: 'succeeded' });
    expect((await (await reopen()).executions.get(e.id))?.steps[0][0].status).toBe('succeeded');
  });

  it('filters by status, kind and time, pages by offset and by keyset, newest first', async () => {
    const s = state!;
    const saved: Execution[] = [];
    for (let i = 0; i < 30; i++) {
      const e = execution({ status: i % 3 === 0 ? 'failed' : 'succeeded', ...(i % 5 === 0 ? { kind: 'heal' } : {}) });
      saved.push(e);
      await s.executions.save(e);
    }
    const newestFirst = [...saved].reverse();
    const page = await s.executions.list({ limit: 5, offset: 0 });
    expect(page.total).toBe(30);
    expect(page.items.map((e) => e.id)).toEqual(newestFirst.slice(0, 5).map((e) => e.id));
    const second = await s.executions.list({ limit: 5, offset: 5 });
    expect(second.items.map((e) => e.id)).toEqual(newestFirst.slice(5, 10).map((e) => e.id));
    const failed = await s.executions.list({ limit: 100, offset: 0, filter: { status: ['failed'] } });
    expect(failed.total).toBe(10);
    expect(failed.items.every((e) => e.status === 'failed')).toBe(true);
    const heals = await s.executions.list({ limit: 100, offset: 0, filter: { kind: ['heal'] } });
    expect(heals.items.map((e) => e.id)).toEqual(newestFirst.filter((e) => (e as { kind?: string }).kind === 'heal').map((e) => e.id));
    const since = await s.executions.list({ limit: 100, offset: 0, filter: { since: saved[25].created_at } });
    expect(since.items.map((e) => e.id)).toEqual(newestFirst.slice(0, 5).map((e) => e.id));
    expect(since.total).toBe(5);
    const before = await s.executions.list({ limit: 3, offset: 0, filter: { before: saved[10].id, status: ['succeeded'] } });
    expect(before.items.map((e) => e.id)).toEqual(newestFirst.filter((e) => e.id < saved[10].id && e.status === 'succeeded').slice(0, 3).map((e) => e.id));
    expect(before.total).toBe(newestFirst.filter((e) => e.id < saved[10].id && e.status === 'succeeded').length);
  });

  it('lists only unfinished executions for recovery, oldest first', async () => {
    const s = state!;
    for (let i = 0; i < 20; i++) await s.executions.save(execution());
    const queued = execution({ status: 'queued', finished_at: undefined, steps: [] });
    const running = execution({ status: 'running', finished_at: undefined });
    await s.executions.save(queued);
    await s.executions.save(running);
    expect((await s.executions.listUnfinished()).map((e) => e.id)).toEqual([queued.id, running.id]);
  });

  it('prunes finished executions past age and count, never unfinished ones', async () => {
    const s = state!;
    const old = (days: number) => new Date(Date.now() - days * 86_400_000).toISOString();
    const ids: string[] = [];
    for (let i = 0; i < 10; i++) {
      const e = execution({ created_at: old(100 - i) });
      ids.push(e.id);
      await s.executions.save(e);
    }
    const stuck = execution({ created_at: old(200), status: 'running', finished_at: undefined });
    stuck.id = `${ids[0].slice(0, -7)}0-zzzzzz`;
    await s.executions.save(stuck);
    const recent = execution({ created_at: old(1) });
    await s.executions.save(recent);
    expect(await s.executions.prune({ keep: 4, olderThan: new Date(Date.now() - 30 * 86_400_000) })).toBe(7);
    const listed = await s.executions.list({ limit: 100, offset: 0 });
    expect(listed.total).toBe(5);
    expect((await s.executions.list({ limit: 100, offset: 0, filter: { status: ['succeeded'] } })).total).toBe(4);
    expect(listed.items.map((e) => e.id).sort()).toEqual([stuck.id, ...ids.slice(7), recent.id].sort());
    expect(await s.count('execution_actions')).toBe(5);
    const superseded = execution({ created_at: old(100), status: 'superseded' });
    await s.executions.save(superseded);
    expect(await s.executions.prune({ keep: 0, olderThan: new Date(Date.now() - 30 * 86_400_000) })).toBe(4);
    expect(await s.executions.get(superseded.id)).toBeUndefined();
    expect(await s.executions.get(stuck.id)).toBeDefined();
  });

  it('sets an unreadable record aside and keeps serving the others', async () => {
    const s = state!;
    const good = execution();
    const bad = execution();
    await s.executions.save(good);
    await s.executions.save(bad);
    await s.corruptExecution(bad.id, '{"not json');
    expect((await s.executions.list({ limit: 10, offset: 0 })).items.map((e) => e.id)).toEqual([good.id]);
    expect((await s.executions.list({ limit: 10, offset: 0 })).total).toBe(1);
    expect(await s.executions.get(bad.id)).toBeUndefined();
    const aside = await s.setAside();
    expect(aside.map((a) => a.source)).toEqual([`executions/${bad.id}`]);
    expect(aside[0].content).toContain('{\\"not json');
  });

  it('keeps the topology with its history, and the process definitions in order with ids never reused', async () => {
    let s = state!;
    expect(await s.topologies.load()).toBeUndefined();
    await s.topologies.save({ apps: [1] });
    await s.topologies.save({ apps: [2] });
    expect(await s.topologies.load()).toEqual({ apps: [2] });
    expect((await s.topologies.history(10)).map((h) => h.document)).toEqual([{ apps: [2] }, { apps: [1] }]);
    const def = parseProcessDefinition({ exec: '/bin/true' }, 'definition');
    expect(await s.processDefinitions.create(def)).toBe('1');
    expect(await s.processDefinitions.put('tune', def)).toEqual({ created: true });
    expect(await s.processDefinitions.put('tune', def)).toEqual({ created: false });
    expect(await s.processDefinitions.create(def)).toBe('2');
    expect(await s.processDefinitions.delete('2')).toBe(true);
    expect(await s.processDefinitions.delete('2')).toBe(false);
    s = await reopen();
    expect(await s.processDefinitions.create(def)).toBe('3');
    expect(await s.processDefinitions.put('7', def)).toEqual({ created: true });
    expect(await s.processDefinitions.create(def)).toBe('8');
    const all = await s.processDefinitions.list({ offset: 0 });
    expect([all.total, all.items.map((i) => i.id)]).toEqual([5, ['1', 'tune', '3', '7', '8']]);
    const page = await s.processDefinitions.list({ limit: 2, offset: 1 });
    expect([page.total, page.items.map((i) => i.id)]).toEqual([5, ['tune', '3']]);
    expect(await s.processDefinitions.get('tune')).toEqual(def);
    await expect(s.processDefinitions.put('x'.repeat(5000), def)).rejects.toMatchObject({ code: 'invalid' });
  });

  it('keeps systems with the topology versions that hold their apps, in order, across a reopen', async () => {
    let s = state!;
    const sid = (n: number) => String(n).padStart(32, '0');
    const first = newSystem({ sid: sid(1), name: 'shop', app: `shop-${sid(1)}`, namespace: 'team' }, [], new Date(Date.UTC(2026, 0, 1)));
    const second = newSystem({ sid: sid(2), name: 'blog', app: `blog-${sid(2)}`, namespace: 'team', username: 'ann' }, ['rounded'], new Date(Date.UTC(2026, 0, 2)));
    await s.topologies.save({ apps: ['user'] });
    await s.systems.saveWithTopology(second, { apps: ['user', second.app] });
    await s.systems.saveWithTopology(first, { apps: ['user', second.app, first.app] });
    first.status = 'running';
    first.host_ports = { vm1: { web: { '80/tcp': 20001 } } };
    await s.systems.save(first);
    expect(s.systems.list().map((r) => r.sid)).toEqual([first.sid, second.sid]);
    s = await reopen();
    expect(s.systems.list()).toEqual([first, second]);
    expect(s.systems.get(first.sid)).toEqual(first);
    // App-made versions superseded by a newer one are dropped; the user's stays.
    expect((await s.topologies.history(10)).map((h) => [h.made_by, h.document])).toEqual([['apps', { apps: ['user', second.app, first.app] }], ['user', { apps: ['user'] }]]);
    await s.systems.deleteWithTopology(second.sid, { apps: ['user', first.app] });
    await s.systems.delete(first.sid);
    await s.systems.delete('not-there');
    s = await reopen();
    expect(s.systems.list()).toEqual([]);
    expect(await s.topologies.load()).toEqual({ apps: ['user', first.app] });
  });

  it('sets an unreadable system aside and reads the others', async () => {
    const s = state!;
    const good = newSystem({ sid: 'a'.repeat(32), name: 'good', app: `good-${'a'.repeat(32)}`, namespace: 'n' }, []);
    const bad = newSystem({ sid: 'b'.repeat(32), name: 'bad', app: `bad-${'b'.repeat(32)}`, namespace: 'n' }, []);
    await s.systems.save(good);
    await s.systems.save(bad);
    await s.corruptSystem(bad.sid, 'not json');
    const again = await reopen();
    expect(again.systems.list().map((r) => r.sid)).toEqual([good.sid]);
    expect((await again.setAside()).map((a) => [a.source, a.content])).toEqual([[`systems/${bad.sid}`, 'not json']]);
  });

  it('keeps the cordoned nodes, each once, replaced as a whole', async () => {
    let s = state!;
    expect(await s.nodeStates.load()).toEqual({ cordoned: [] });
    await s.nodeStates.save({ cordoned: ['vm2', 'vm1', 'vm2'] });
    s = await reopen();
    expect(await s.nodeStates.load()).toEqual({ cordoned: ['vm1', 'vm2'] });
    await s.nodeStates.save({ cordoned: ['vm3'] });
    expect(await (await reopen()).nodeStates.load()).toEqual({ cordoned: ['vm3'] });
    await state!.nodeStates.save({ cordoned: [] });
    expect(await (await reopen()).nodeStates.load()).toEqual({ cordoned: [] });
  });
});

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

/** What is SQLite's own: WAL and file modes, the state-dir lease, the import (the stores' contract: state-stores.test.ts). */

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

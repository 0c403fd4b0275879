import { promises as fs } from 'fs';
import * as os from 'os';
import * as path from 'path';
import { openSqliteState, SqliteState } from '../../src/drivers/sqlite/sqlite-state';
import { newSystem, SystemRecord } from '../../src/domain/system';

/**
 * Systems and cordons live in the state database. A state dir of a version that kept them in
 * `systems.json` and `nodes.json` is imported once; a file that does not read never stops the
 * daemon, and its bytes are kept.
 */
describe('systems and cordons in the state database', () => {
  let dir: string;
  let state: SqliteState | undefined;
  beforeEach(async () => { dir = await fs.mkdtemp(path.join(os.tmpdir(), 'ecoware-state-files-')); });
  afterEach(async () => {
    state?.close();
    state = undefined;
    await fs.rm(dir, { recursive: true, force: true });
  });

  const setAside = (s: SqliteState) => s.db.prepare('SELECT source, content FROM set_aside ORDER BY seq').all() as { source: string; content: string }[];
  const system = (sid: string): SystemRecord => newSystem({ sid, name: 's', app: `s-${sid}`, namespace: 'default' }, [], new Date('2026-01-01T00:00:00Z'));

  it('a new state dir gets no systems.json nor nodes.json: systems and cordons are rows, kept across a reopen', async () => {
    state = await openSqliteState(dir);
    await state.systems.save(system('b2'));
    await state.nodeStates.save({ cordoned: ['node2', 'node1'] });
    state.close();
    state = await openSqliteState(dir);
    expect(state.systems.list().map((r) => r.sid)).toEqual(['b2']);
    expect(await state.nodeStates.load()).toEqual({ cordoned: ['node1', 'node2'] });
    expect((await fs.readdir(dir)).filter((f) => f.endsWith('.json'))).toEqual([]);
  });

  it('imports well-formed files once, renamed *.imported, setting nothing aside', async () => {
    await fs.writeFile(path.join(dir, 'nodes.json'), '{"cordoned": ["node1", 7]}');
    await fs.writeFile(path.join(dir, 'systems.json'), JSON.stringify([{ sid: 'a1', created_at: '2026-01-01T00:00:00Z', status: 'running' }]));
    state = await openSqliteState(dir);
    expect(state.imported).toMatchObject({ systems: 1, cordons: 1, setAside: 0 });
    expect(await state.nodeStates.load()).toEqual({ cordoned: ['node1'] });
    expect(state.systems.list()).toEqual([{ sid: 'a1', created_at: '2026-01-01T00:00:00Z', status: 'running', host_ports: {}, execution_ids: [], warnings: [] }]);
    expect((await fs.readdir(dir)).filter((f) => f.includes('.json')).sort()).toEqual(['nodes.json.imported', 'systems.json.imported']);
    expect(setAside(state)).toEqual([]);
    // Once: a reopen imports nothing again.
    await state.nodeStates.save({ cordoned: [] });
    state.close();
    state = await openSqliteState(dir);
    expect(state.imported).toBeUndefined();
    expect(await state.nodeStates.load()).toEqual({ cordoned: [] });
  });

  it.each([
    ['cut short', '[{"sid": "a1", '],
    ['not a list', '{"sid": "a1"}'],
  ])('systems.json %s: kept with its bytes in set_aside, the daemon starts with no system and saves new ones', async (_what, content) => {
    await fs.writeFile(path.join(dir, 'systems.json'), content);
    state = await openSqliteState(dir);
    expect(state.systems.list()).toEqual([]);
    expect(setAside(state)).toEqual([{ source: 'systems.json', content }]);
    expect(await fs.readFile(path.join(dir, 'systems.json.imported'), 'utf8')).toBe(content);
    await state.systems.save(system('b2'));
    expect(state.systems.list().map((r) => r.sid)).toEqual(['b2']);
  });

  it.each([
    ['cut short', '{"cordoned": ["node1"'],
    ['of another shape', '["node1"]'],
  ])('nodes.json %s: kept with its bytes in set_aside, no node cordoned', async (_what, content) => {
    await fs.writeFile(path.join(dir, 'nodes.json'), content);
    state = await openSqliteState(dir);
    expect(await state.nodeStates.load()).toEqual({ cordoned: [] });
    expect(setAside(state)).toEqual([{ source: 'nodes.json', content }]);
    await state.nodeStates.save({ cordoned: ['node2'] });
    expect(await state.nodeStates.load()).toEqual({ cordoned: ['node2'] });
  });

  it('a stored system that does not read is set aside; the others are served', async () => {
    state = await openSqliteState(dir);
    await state.systems.save(system('a1'));
    state.db.prepare("INSERT INTO systems (sid, created_at, record) VALUES ('b2', '2026-01-02', '{cut')").run();
    state.close();
    state = await openSqliteState(dir);
    expect(state.systems.list().map((r) => r.sid)).toEqual(['a1']);
    expect(setAside(state)).toEqual([{ source: 'systems/b2', content: '{cut' }]);
  });
});

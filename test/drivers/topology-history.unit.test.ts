import { promises as fs } from 'fs';
import * as os from 'os';
import * as path from 'path';
import { openSqliteState, SqliteState } from '../../src/drivers/sqlite/sqlite-state';

/** The topology history: the versions users made, pruned like executions; app edits leave only the version in force. */
describe('topology history', () => {
  let dir: string;
  let state: SqliteState;
  beforeEach(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'ecoware-topologies-'));
    state = await openSqliteState(dir);
  });
  afterEach(async () => {
    state.close();
    await fs.rm(dir, { recursive: true, force: true });
  });
  const versions = async () => (await state.topologies.history(100)).map((h) => [h.made_by, (h.document as { n: number }).n]);

  it('keeps every version a user made, and of app edits only the newest while it is in force', async () => {
    await state.topologies.save({ n: 1 });
    await state.topologies.save({ n: 2 }, 'apps');
    await state.topologies.save({ n: 3 }, 'apps');
    expect(await versions()).toEqual([['apps', 3], ['user', 1]]);
    expect(await state.topologies.load()).toEqual({ n: 3 });
    await state.topologies.save({ n: 4 });
    expect(await versions()).toEqual([['user', 4], ['user', 1]]);
  });

  it('prunes versions older than the retention beyond the newest ones, never the one in force', async () => {
    for (let n = 1; n <= 5; n++) await state.topologies.save({ n });
    state.db.prepare("UPDATE topologies SET accepted_at = '2020-01-01T00:00:00.000Z'").run();
    expect(await state.topologies.prune({ keep: 2, olderThan: new Date('2021-01-01') })).toBe(3);
    expect(await versions()).toEqual([['user', 5], ['user', 4]]);
    expect(await state.topologies.prune({ keep: 0, olderThan: new Date('2021-01-01') })).toBe(1);
    expect(await versions()).toEqual([['user', 5]]);
    // Recent versions stay whatever their number.
    await state.topologies.save({ n: 6 });
    expect(await state.topologies.prune({ keep: 0, olderThan: new Date('2021-01-01') })).toBe(1);
    expect(await versions()).toEqual([['user', 6]]);
    await state.topologies.save({ n: 7 });
    expect(await state.topologies.prune({ keep: 0, olderThan: new Date('2021-01-01') })).toBe(0);
    expect(await versions()).toEqual([['user', 7], ['user', 6]]);
  });
});

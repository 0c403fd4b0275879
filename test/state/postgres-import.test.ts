import { promises as fs } from 'fs';
import * as os from 'os';
import * as path from 'path';
import { newSystem } from '../../src/domain/system';
import { openPgDatabase } from '../../src/drivers/postgres/database';
import { openState } from '../../src/drivers/open-state';
import { openSqliteState } from '../../src/drivers/sqlite/sqlite-state';
import { freshDatabase, startPostgres, TestPostgres } from '../support/postgres';

/**
 * Systems and cordons once lived in each daemon's state dir while the rest was in PostgreSQL: the
 * first leader on a database that was in use then imports its state dir's, once; a new database
 * imports nothing.
 */
describe('systems and cordons of a state dir, moved into PostgreSQL', () => {
  let pg: TestPostgres;
  let root: string;

  beforeAll(async () => {
    pg = await startPostgres();
    root = await fs.mkdtemp(path.join(os.tmpdir(), 'ecoware-pg-import-'));
  }, 60_000);
  afterAll(async () => {
    await pg?.remove();
    await fs.rm(root, { recursive: true, force: true });
  }, 60_000);

  const system = newSystem({ sid: 'c'.repeat(32), name: 'shop', app: `shop-${'c'.repeat(32)}`, namespace: 'team' }, []);

  /** A state dir of the earlier layout: a system and a cordon in its SQLite file. */
  const earlierStateDir = async (name: string): Promise<string> => {
    const dir = path.join(root, name);
    const local = await openSqliteState(dir);
    await local.systems.save(system);
    await local.nodeStates.save({ cordoned: ['vm2'] });
    local.close();
    return dir;
  };

  it('imports them once into a database that was in use, and never again', async () => {
    const url = await freshDatabase(pg, 'in_use');
    // A database the earlier layout used: it held a topology when the systems table arrived.
    const db = await openPgDatabase(url);
    // Back to schema version 2, the last without systems and cordons (undoing migrations 3 and 4).
    await db.query('DELETE FROM schema_version WHERE version >= 3');
    await db.query('DROP TABLE systems; DROP TABLE cordons; ALTER TABLE executions DROP COLUMN epoch');
    await db.query("INSERT INTO topologies (accepted_at, document) VALUES ('2026-01-01T00:00:00Z', '{\"apps\":[]}')");
    await db.close();
    const stateDir = await earlierStateDir('in-use');

    const first = await openState({ stateDir, databaseUrl: url, leaseS: 3 });
    expect(first.systems.list()).toEqual([system]);
    expect(await first.nodeStates.load()).toEqual({ cordoned: ['vm2'] });
    await first.systems.delete(system.sid);
    await first.nodeStates.save({ cordoned: [] });
    await first.close();

    // Deleted in PostgreSQL: the file still holds them, and they do not come back.
    const second = await openState({ stateDir, databaseUrl: url, leaseS: 3 });
    expect(second.systems.list()).toEqual([]);
    expect(await second.nodeStates.load()).toEqual({ cordoned: [] });
    await second.close();
  });

  it('imports nothing into a new database', async () => {
    const url = await freshDatabase(pg, 'new_db');
    const stateDir = await earlierStateDir('new-db');
    const state = await openState({ stateDir, databaseUrl: url, leaseS: 3 });
    expect(state.systems.list()).toEqual([]);
    expect(await state.nodeStates.load()).toEqual({ cordoned: [] });
    await state.close();
  });
});

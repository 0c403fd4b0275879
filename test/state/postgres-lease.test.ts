import { ChildProcess, spawn } from 'child_process';
import { Client } from 'pg';
import * as path from 'path';
import { FencedError, openPgDatabase } from '../../src/drivers/postgres/database';
import { openPostgresState, PgState } from '../../src/drivers/postgres/pg-state';
import { PgExecutionStore } from '../../src/drivers/postgres/pg-execution-store';
import { Execution, newExecution } from '../../src/domain/execution';
import { freshDatabase, startPostgres, TestPostgres } from '../support/postgres';
import { waitUntil } from '../support/wait-for';

/**
 * The leader's lease on a real PostgreSQL server (SPEC §12): one leader among racers, handover on
 * expiry and on release, the database refusing a stale epoch's writes, a paused leader that comes
 * back and acts no more, and a server restarted under the daemons.
 */
describe('the leader lease on PostgreSQL', () => {
  let pg: TestPostgres;
  let url: string;
  let n = 0;
  const open: PgState[] = [];
  const children: ChildProcess[] = [];

  beforeAll(async () => { pg = await startPostgres(); }, 60_000);
  afterAll(async () => { await pg?.remove(); }, 60_000);
  beforeEach(async () => { url = await freshDatabase(pg, `lease_${++n}`); });
  afterEach(async () => {
    for (const child of children.splice(0)) { child.kill('SIGCONT'); child.kill('SIGKILL'); }
    await Promise.all(open.splice(0).map((s) => s.close().catch(() => undefined)));
  });

  const contender = async (leaseS: number, name: string): Promise<PgState> => {
    const state = await openPostgresState(url, { leaseS, holder: name, advertiseUrl: `http://${name}.invalid:8000` });
    open.push(state);
    state.lease.start();
    return state;
  };
  const leaders = (states: PgState[]) => states.filter((s) => s.lease.role === 'leader');

  it('lets one of several racing daemons lead; the others stand by and refuse to write', async () => {
    const racers = await Promise.all(['a', 'b', 'c'].map((name) => contender(15, name)));
    const leader = await waitUntil('a leader', async () => leaders(racers)[0], 10_000);
    // Several renewal periods later there is still exactly one.
    await new Promise((r) => setTimeout(r, 2_500));
    expect(leaders(racers)).toEqual([leader]);
    expect(await leader.lease.leader()).toEqual({ holder: leader.lease.holder, url: `http://${leader.lease.holder}.invalid:8000`, since: expect.any(String), epoch: 1 });
    await leader.topologies.save({ apps: ['written by the leader'] });
    for (const standby of racers.filter((s) => s !== leader)) {
      await expect(standby.topologies.save({ apps: ['from a standby'] })).rejects.toBeInstanceOf(FencedError);
    }
    expect(await leader.topologies.load()).toEqual({ apps: ['written by the leader'] });
  });

  it('hands over on release well before the lease would expire, with a new epoch', async () => {
    const a = await contender(15, 'a');
    await a.lease.waitUntilLeading();
    const b = await contender(15, 'b');
    const taken = b.lease.waitUntilLeading();
    const released = Date.now();
    await a.close();
    open.splice(open.indexOf(a), 1);
    const fence = await taken;
    // The lease would have run 15 s: a takeover before that came from the release.
    expect(Date.now() - released).toBeLessThan(5_000);
    expect(fence.epoch).toBe(2);
    await b.topologies.save({ apps: [] });
  });

  it('refuses in the database a write carrying an epoch that moved on', async () => {
    const a = await contender(2, 'a');
    const fenceA = await a.lease.waitUntilLeading();
    await a.topologies.save({ apps: ['epoch 1'] });
    // a steps down and b takes over with the next epoch.
    await a.lease.stop();
    open.splice(open.indexOf(a), 1);
    await a.db.close();
    const b = await contender(2, 'b');
    const fenceB = await b.lease.waitUntilLeading();
    expect(fenceB.epoch).toBeGreaterThan(fenceA.epoch);
    // A writer still holding a's token, as a paused process would: the database says no.
    const stale = await openPgDatabase(url);
    stale.setFence(fenceA);
    await expect(stale.write((c) => c.query("INSERT INTO topologies (accepted_at, document) VALUES ('x', '{\"apps\":[\"stale\"]}')"))).rejects.toBeInstanceOf(FencedError);
    await stale.close();
    expect(await b.topologies.load()).toEqual({ apps: ['epoch 1'] });
  });

  it('records the epoch of the leader that ran an execution, and refuses a stale leader\'s update of it', async () => {
    const a = await contender(2, 'a');
    const fenceA = await a.lease.waitUntilLeading();
    const running: Execution = { ...newExecution('20260101T000000001-aaaaaa', { app_db: { cpu_cores: 1, mem_units: 1 } }), status: 'running' };
    const queued = newExecution('20260101T000000002-bbbbbb', {});
    await a.executions.save(running);
    await a.executions.save(queued);
    expect((await a.executions.get(running.id))?.epoch).toBe(fenceA.epoch);
    // a stops renewing (as a paused or cut-off leader would) and b takes over.
    await a.lease.stop();
    open.splice(open.indexOf(a), 1);
    await a.db.close();
    const b = await contender(2, 'b');
    const fenceB = await b.lease.waitUntilLeading();
    // A writer with a's token, as a leader resumed after a pause would be: its update never lands.
    const stale = await openPgDatabase(url);
    stale.setFence(fenceA);
    const staleStore = new PgExecutionStore(stale);
    await expect(staleStore.save({ ...running, status: 'succeeded', finished_at: new Date().toISOString() })).rejects.toBeInstanceOf(FencedError);
    await expect(staleStore.saveAction(running.id, 0, 0, { description: 'x', action: { type: 'remove_container' } as never, status: 'succeeded', hooks: [], progress: [] }))
      .rejects.toBeInstanceOf(FencedError);
    await stale.close();
    expect(await b.executions.get(running.id)).toMatchObject({ status: 'running', epoch: fenceA.epoch });
    // b marks a's running execution interrupted (it stays a's) and runs the queued one (now b's).
    await b.executions.save({ ...running, status: 'failed', finished_at: new Date().toISOString(), error: { code: 'interrupted', message: 'x' } });
    await b.executions.save({ ...queued, status: 'running' });
    expect((await b.executions.get(running.id))).toMatchObject({ status: 'failed', epoch: fenceA.epoch });
    expect((await b.executions.get(queued.id))).toMatchObject({ status: 'running', epoch: fenceB.epoch });
    expect((await b.executions.listUnfinished()).map((e) => [e.id, e.epoch])).toEqual([[queued.id, fenceB.epoch]]);
  });

  it('ends a write its leader left hanging, so that it does not hold up a takeover', async () => {
    const a = await contender(3, 'a');
    await a.lease.waitUntilLeading();
    // A write stalled between its fence check and its commit, as in a process paused right then.
    const stalled = a.db.write(async (c) => {
      await new Promise((r) => setTimeout(r, 4_000));
      await c.query("INSERT INTO topologies (accepted_at, document) VALUES ('x', '{\"apps\":[\"late\"]}')");
    });
    stalled.catch(() => undefined);
    await new Promise((r) => setTimeout(r, 200));
    const takeover = new Client({ connectionString: url });
    await takeover.connect();
    try {
      const asked = Date.now();
      // What a takeover does to the lease row (which the stalled write holds a share lock on).
      await takeover.query("UPDATE lease SET url = url WHERE name = 'leader'");
      expect(Date.now() - asked).toBeLessThan(3_000);
    } finally {
      await takeover.end();
    }
    await expect(stalled).rejects.toThrow();
    expect(await a.topologies.load()).toBeUndefined();
  });

  it('hands over when the leader stops renewing, and the paused leader, resumed, acts no more', async () => {
    // The leader is another process, paused with SIGSTOP past its lease.
    const child = spawn(process.execPath, ['-e', `
      const { openPostgresState } = require(${JSON.stringify(path.join(__dirname, '..', '..', 'dist', 'drivers', 'postgres', 'pg-state.js'))});
      (async () => {
        const state = await openPostgresState(process.env.URL, { leaseS: 2, holder: 'paused' });
        state.lease.onLeading((f) => console.log('leading ' + f.epoch));
        state.lease.onLost(() => console.log('lost'));
        state.lease.start();
        process.stdin.on('data', async () => {
          try { await state.topologies.save({ apps: ['from the paused leader'] }); console.log('wrote'); }
          catch (e) { console.log('refused ' + e.name); }
        });
      })();`], { env: { ...process.env, URL: url }, stdio: ['pipe', 'pipe', 'inherit'] });
    children.push(child);
    let out = '';
    child.stdout!.on('data', (d) => { out += d; });
    await waitUntil('the child to lead', async () => (out.includes('leading 1') ? true : undefined), 15_000);
    child.stdin!.write('write\n');
    await waitUntil('its write', async () => (out.includes('wrote') ? true : undefined), 5_000);
    child.kill('SIGSTOP');
    const b = await contender(2, 'b');
    const fence = await b.lease.waitUntilLeading();
    expect(fence.epoch).toBe(2);
    await b.topologies.save({ apps: ['from the new leader'] });
    child.kill('SIGCONT');
    child.stdin!.write('write\n');
    await waitUntil('the resumed process to answer', async () => (out.includes('refused') ? true : undefined), 10_000);
    expect(out).toContain('lost');
    expect(out).toContain('refused FencedError');
    expect(out.match(/wrote/g)).toHaveLength(1);
    expect(await b.topologies.load()).toEqual({ apps: ['from the new leader'] });
    expect(b.lease.role).toBe('leader');
  });

  it('comes back from a restart of the database server with exactly one leader', async () => {
    const racers = [await contender(3, 'a'), await contender(3, 'b')];
    await waitUntil('a leader', async () => leaders(racers)[0], 10_000);
    await pg.stop();
    await new Promise((r) => setTimeout(r, 2_500));
    await pg.start();
    const leader = await waitUntil('a leader after the restart', async () => (leaders(racers).length === 1 && !racers.some((s) => s.lease.lastError) ? leaders(racers)[0] : undefined), 30_000);
    await new Promise((r) => setTimeout(r, 2_000));
    expect(leaders(racers)).toEqual([leader]);
    expect((await leader.lease.leader())?.holder).toBe(leader.lease.holder);
    await leader.topologies.save({ apps: ['after the restart'] });
    expect(await leader.topologies.load()).toEqual({ apps: ['after the restart'] });
  });
});

import { ChannelMessage, PgEventChannel, sharedStreamName } from '../../src/drivers/postgres/pg-event-channel';
import { openPostgresState, PgState } from '../../src/drivers/postgres/pg-state';
import { DomainEvent } from '../../src/domain/events';
import { startPostgres, TestPostgres } from '../support/postgres';
import { waitUntil } from '../support/wait-for';

const node = (name: string): DomainEvent => ({ type: 'node', name, cordoned: true, at: '2026-01-01T00:00:00.000Z' });

/**
 * The events' channel between daemons on a real PostgreSQL server (SPEC §12): a standby hears the
 * leader's events in order with their seqs; a daemon whose lease moved on sends nothing more; every
 * daemon of the database names the same stream.
 */
describe('the events channel on PostgreSQL', () => {
  let pg: TestPostgres;
  const open: PgState[] = [];
  const stops: (() => Promise<void>)[] = [];

  beforeAll(async () => { pg = await startPostgres(); }, 60_000);
  afterAll(async () => {
    for (const stop of stops) await stop();
    await Promise.all(open.map((s) => s.close().catch(() => undefined)));
    await pg?.remove();
  }, 60_000);

  it('carries the leader\'s events in order to a standby, and nothing once the lease moved on', async () => {
    const leader = await openPostgresState(pg.url, { leaseS: 15, holder: 'leader' });
    const standby = await openPostgresState(pg.url, { leaseS: 15, holder: 'standby' });
    open.push(leader, standby);
    await leader.lease.start();
    await standby.lease.start();
    expect([leader.lease.role, standby.lease.role]).toEqual(['leader', 'standby']);
    expect(await sharedStreamName(standby.db.pool)).toBe(await sharedStreamName(leader.db.pool));

    const heard: ChannelMessage[] = [];
    const channel = new PgEventChannel(pg.url, leader.db.pool, () => leader.db.currentFence);
    stops.push(new PgEventChannel(pg.url, standby.db.pool, () => standby.db.currentFence).listen((m) => heard.push(m)));
    // Give the LISTEN a moment to be in place: NOTIFYs before it are not heard (the seqs tell).
    await waitUntil('the standby to listen', async () => {
      const { rows } = await standby.db.pool.query("SELECT count(*)::int AS n FROM pg_stat_activity WHERE query = 'LISTEN ecoware_events'");
      return rows[0].n > 0 ? true : undefined;
    }, 10_000);
    for (let seq = 1; seq <= 50; seq++) channel.notify(seq, node(`n${seq}`));
    await waitUntil('the 50 events', async () => (heard.length >= 50 ? true : undefined), 10_000);
    expect(heard.map((m) => m.seq)).toEqual(Array.from({ length: 50 }, (_, i) => i + 1));
    expect(heard[49].event).toEqual(node('n50'));
    // A standby sends nothing.
    new PgEventChannel(pg.url, standby.db.pool, () => standby.db.currentFence).notify(51, node('from the standby'));

    // Another daemon takes the lease over while this one does not know yet (a paused process):
    // the database refuses its NOTIFY as it refuses its writes.
    await leader.db.pool.query("UPDATE lease SET holder = 'someone else', epoch = epoch + 1 WHERE name = 'leader'");
    expect(leader.db.currentFence).toMatchObject({ holder: 'leader' });
    channel.notify(52, node('stale'));
    await channel.flushed();
    await new Promise((r) => setTimeout(r, 500));
    expect(heard.map((m) => m.seq).slice(50)).toEqual([]);
  }, 60_000);
});

import * as http from 'http';
import { AddressInfo } from 'net';
import express from 'express';
import { DomainEvent, EventBus } from '../../src/domain/events';
import { createEventStreamRouter, EventLog, REPLAY_EVENTS, TERM_SEQ_BASE } from '../../src/http/event-stream';
import { decode, encode } from '../../src/drivers/postgres/pg-event-channel';

const node = (name: string): DomainEvent => ({ type: 'node', name, cordoned: true, at: '2026-01-01T00:00:00.000Z' });

/** Reads a stream for `ms` and returns its text. */
function readStream(url: string, headers: Record<string, string> = {}, ms = 80): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = http.get(url, { headers }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => { text += d; });
      setTimeout(() => { req.destroy(); resolve(text); }, ms);
    });
    req.on('error', reject);
  });
}

function idsOf(text: string): string[] {
  return [...text.matchAll(/^id: (.+)$/gm)].map((m) => m[1]);
}

describe('the event log', () => {
  it('numbers events and gives back those after an id of this run, in order', () => {
    const bus = new EventBus();
    const log = new EventLog(bus, 3);
    expect(log.lastId).toBe(`${log.boot}-0`);
    expect(log.since(`${log.boot}-0`)).toEqual([]);
    for (const name of ['a', 'b', 'c', 'd']) bus.publish(node(name));
    expect(log.lastId).toBe(`${log.boot}-4`);
    // The buffer holds 2, 3, 4: resuming after 1 misses nothing.
    expect(log.since(`${log.boot}-1`)?.map((e) => e.seq)).toEqual([2, 3, 4]);
    expect(log.since(`${log.boot}-3`)?.map((e) => (e.event as { name: string }).name)).toEqual(['d']);
    expect(log.since(`${log.boot}-4`)).toEqual([]);
    // Older than the buffer, newer than the newest, of another run, not an id: unknown.
    expect(log.since(`${log.boot}-0`)).toBeUndefined();
    expect(log.since(`${log.boot}-5`)).toBeUndefined();
    expect(log.since('zzzz-3')).toBeUndefined();
    expect(log.since('3')).toBeUndefined();
    log.close();
    expect(bus.listenerCount).toBe(0);
  });

  it('keeps at least 1000 events', () => {
    expect(REPLAY_EVENTS).toBeGreaterThanOrEqual(1000);
    const bus = new EventBus();
    const log = new EventLog(bus);
    for (let i = 0; i < 1500; i++) bus.publish(node(`n${i}`));
    expect(log.since(`${log.boot}-500`)?.length).toBe(1000);
    expect(log.since(`${log.boot}-499`)).toBeUndefined();
  });
});

describe('the event log of daemons sharing a database', () => {
  it('numbers a leader\'s events above every id of an earlier leader, under the shared stream name', () => {
    const bus = new EventBus();
    const log = new EventLog(bus, 10, 'shared1');
    log.beginTerm(2);
    bus.publish(node('a'));
    bus.publish(node('b'));
    expect(log.lastId).toBe(`shared1-${2 * TERM_SEQ_BASE + 2}`);
    expect(log.since(`shared1-${2 * TERM_SEQ_BASE + 1}`)?.map((e) => (e.event as { name: string }).name)).toEqual(['b']);
    // An epoch already passed (a lease taken back at the same epoch) does not move the ids back.
    log.beginTerm(1);
    bus.publish(node('c'));
    expect(log.lastId).toBe(`shared1-${2 * TERM_SEQ_BASE + 3}`);
  });

  it('keeps relayed events with the leader\'s ids, drops old and repeated ones, and answers reset across a jump', () => {
    const bus = new EventBus();
    const standby = new EventLog(bus, 10, 'shared1');
    const base = 3 * TERM_SEQ_BASE;
    standby.relayed(base + 1, node('a'));
    standby.relayed(base + 2, node('b'));
    standby.relayed(base + 2, node('b again'));
    standby.relayed(base + 1, node('late'));
    expect(standby.lastId).toBe(`shared1-${base + 2}`);
    expect(standby.since(`shared1-${base + 1}`)?.map((e) => (e.event as { name: string }).name)).toEqual(['b']);
    // base+3 was never heard: whoever saw base+2 cannot be told everything after it any more …
    standby.relayed(base + 4, node('d'));
    expect(standby.since(`shared1-${base + 2}`)).toBeUndefined();
    // … but whoever saw base+3 (from the leader) misses nothing here.
    expect(standby.since(`shared1-${base + 3}`)?.map((e) => (e.event as { name: string }).name)).toEqual(['d']);
    // This standby leads next: its ids start above the old leader's, and an id from before is answered reset.
    standby.beginTerm(4);
    bus.publish(node('e'));
    expect(standby.lastId).toBe(`shared1-${4 * TERM_SEQ_BASE + 1}`);
    expect(standby.since(`shared1-${base + 4}`)).toBeUndefined();
    expect(standby.since(`shared1-${4 * TERM_SEQ_BASE}`)?.length).toBe(1);
  });

  it('sends an event to the standbys within PostgreSQL\'s NOTIFY limit, shortening only a long description', () => {
    const short = { seq: 7, event: { type: 'action' as const, execution_id: 'x', layer: 0, index: 1, status: 'succeeded' as const, description: 'create "db"', at: 't' } };
    expect(decode(encode(short))).toEqual(short);
    const long = { ...short, event: { ...short.event, description: `é${'"x'.repeat(6000)}` } };
    const payload = encode(long);
    expect(Buffer.byteLength(payload)).toBeLessThan(8000);
    const decoded = decode(payload);
    expect(decoded?.seq).toBe(7);
    expect(decoded?.event).toMatchObject({ type: 'action', execution_id: 'x', status: 'succeeded' });
    expect((decoded?.event as { description: string }).description.endsWith('…')).toBe(true);
    expect(decode('not json')).toBeUndefined();
    expect(decode(JSON.stringify({ seq: 1, event: { type: 'other' } }))).toBeUndefined();
  });
});

describe('GET /api/events with Last-Event-ID', () => {
  let server: http.Server;
  let url: string;
  let bus: EventBus;
  let log: EventLog;
  beforeEach(async () => {
    bus = new EventBus();
    log = new EventLog(bus, 5);
    const app = express();
    app.use(createEventStreamRouter(bus, log));
    server = http.createServer(app);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/api/events`;
  });
  afterEach(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  it('tells a new client the newest id at once, without an event', async () => {
    bus.publish(node('a'));
    const text = await readStream(url);
    expect(text).toBe(`retry: 2000\nid: ${log.boot}-1\n\n`);
  });

  it('replays what a reconnecting client missed, then goes on live, with no event twice', async () => {
    bus.publish(node('a'));
    bus.publish(node('b'));
    bus.publish(node('c'));
    const reading = readStream(url, { 'Last-Event-ID': `${log.boot}-1` }, 120);
    await new Promise((r) => setTimeout(r, 40));
    bus.publish(node('d'));
    const text = await reading;
    expect(idsOf(text)).toEqual([2, 3, 4].map((n) => `${log.boot}-${n}`));
    expect([...text.matchAll(/"name":"(\w)"/g)].map((m) => m[1])).toEqual(['b', 'c', 'd']);
    expect(text).not.toContain('event: reset');
  });

  it('replays only the asked types', async () => {
    bus.publish(node('a'));
    bus.publish({ type: 'execution', id: 'e1', status: 'running', kind: 'plan', at: '2026-01-01T00:00:00.000Z' });
    const text = await readStream(`${url}?type=execution`, { 'Last-Event-ID': `${log.boot}-0` });
    expect(idsOf(text)).toEqual([`${log.boot}-2`]);
  });

  it('sends reset with the newest id to a client whose id is older than the buffer or from another run', async () => {
    for (let i = 0; i < 8; i++) bus.publish(node(`n${i}`));
    for (const lastId of [`${log.boot}-1`, 'l0ng4go0000-7', 'garbage']) {
      const text = await readStream(url, { 'Last-Event-ID': lastId });
      expect(text).toBe(`retry: 2000\nid: ${log.boot}-8\nevent: reset\ndata: {"reason":"the events since the last one received are no longer known: read the state afresh"}\n\n`);
    }
  });

  it('stops sending to a closed stream', async () => {
    await readStream(url);
    await new Promise((r) => setTimeout(r, 20));
    expect((log as unknown as { listeners: Set<unknown> }).listeners.size).toBe(0);
  });
});

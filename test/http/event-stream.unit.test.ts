import * as http from 'http';
import { AddressInfo } from 'net';
import express from 'express';
import { DomainEvent, EventBus } from '../../src/domain/events';
import { createEventStreamRouter, EventLog, REPLAY_EVENTS } from '../../src/http/event-stream';

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

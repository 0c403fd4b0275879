import * as http from 'http';
import { AddressInfo } from 'net';
import express from 'express';
import { DaemonClient } from '../../src/cli/daemon-client';
import { followEvents, parseEvents, StreamEvent } from '../../src/cli/event-stream-client';
import { DomainEvent, EventBus } from '../../src/domain/events';
import { createEventStreamRouter, EventLog } from '../../src/http/event-stream';
import { waitUntil } from '../support/wait-for';

const node = (name: string): DomainEvent => ({ type: 'node', name, cordoned: true, at: '2026-01-01T00:00:00.000Z' });

describe('the command line\'s event stream client', () => {
  it('parses event-stream text, comments, ids alone and split chunks', async () => {
    const text = 'retry: 2000\nid: b-0\n\n: keep-alive\n\nid: b-1\nevent: node\ndata: {"name":"a"}\n\nid: b-2\r\nevent: reset\r\ndata: {"reason":"x"}\r\n\r\n';
    const chunks = [text.slice(0, 17), text.slice(17, 50), text.slice(50)].map((c) => new TextEncoder().encode(c));
    const body = new ReadableStream<Uint8Array>({ start(controller) { for (const c of chunks) controller.enqueue(c); controller.close(); } });
    const events: StreamEvent[] = [];
    for await (const e of parseEvents(body)) events.push(e);
    expect(events).toEqual([
      { id: 'b-0', type: '', data: {} },
      { id: 'b-1', type: 'node', data: { name: 'a' } },
      { id: 'b-2', type: 'reset', data: { reason: 'x' } },
    ]);
  });

  it('reopens a lost stream with Last-Event-ID and gets what it missed, once', async () => {
    const bus = new EventBus();
    const log = new EventLog(bus);
    const server = http.createServer(express().use(createEventStreamRouter(bus, log)));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const client = new DaemonClient(`http://127.0.0.1:${(server.address() as AddressInfo).port}`);
    const stop = new AbortController();
    const seen: string[] = [];
    let opens = 0;
    const following = followEvents(client, (e) => seen.push(`${e.type}:${(e.data as { name?: string }).name}`), stop.signal, { retryMs: 50, onOpen: () => { opens += 1; } });
    try {
      await waitUntil('the stream to open', async () => (opens === 1 ? true : undefined), 5000);
      bus.publish(node('a'));
      await waitUntil('a', async () => (seen.length === 1 ? true : undefined), 5000);
      server.closeAllConnections();
      bus.publish(node('b'));
      bus.publish(node('c'));
      await waitUntil('b and c', async () => (seen.length >= 3 ? true : undefined), 5000);
      expect(opens).toBe(2);
      expect(seen).toEqual(['node:a', 'node:b', 'node:c']);
    } finally {
      stop.abort();
      await following.catch(() => undefined);
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
      log.close();
    }
  });
});

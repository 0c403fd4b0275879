import express from 'express';
import { DomainEvent, EventBus } from '../domain/events';

const HEARTBEAT_MS = 15_000;

/**
 * `GET /api/events`: Server-Sent Events of execution and action changes (and node changes), each
 * `event: <type>` with the event as JSON in `data:`, numbered by `id:` within the connection. A
 * comment line every 15 s keeps proxies from closing an idle stream. `?type=execution,action`
 * narrows the feed.
 */
export function createEventStreamRouter(bus: EventBus): express.Router {
  const router = express.Router();
  router.get('/api/events', (req, res) => {
    const types = typeof req.query.type === 'string' ? new Set(req.query.type.split(',')) : undefined;
    res.status(200).set({
      'Content-Type': 'text/event-stream; charset=utf-8',
      'Cache-Control': 'no-cache, no-transform',
      Connection: 'keep-alive',
      'X-Accel-Buffering': 'no',
    });
    res.flushHeaders();
    res.write('retry: 2000\n\n');
    let sequence = 0;
    const send = (event: DomainEvent) => {
      if (types && !types.has(event.type)) return;
      const { type, ...data } = event;
      res.write(`id: ${++sequence}\nevent: ${type}\ndata: ${JSON.stringify(data)}\n\n`);
    };
    const unsubscribe = bus.subscribe(send);
    const heartbeat = setInterval(() => res.write(': keep-alive\n\n'), HEARTBEAT_MS);
    heartbeat.unref();
    const stop = () => {
      clearInterval(heartbeat);
      unsubscribe();
    };
    req.on('close', stop);
    res.on('close', stop);
  });
  return router;
}

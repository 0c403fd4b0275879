import express from 'express';
import { ValidationError } from '../domain/errors';
import { DomainEvent, EventBus } from '../domain/events';

const HEARTBEAT_MS = 15_000;

/** The `type` of every DomainEvent the bus carries. */
const EVENT_TYPES: readonly DomainEvent['type'][] = ['execution', 'action', 'node'];

/**
 * `GET /api/events`: Server-Sent Events of execution and action changes (and node changes), each
 * `event: <type>` with the event as JSON in `data:`, numbered by `id:` within the connection. A
 * comment line every 15 s keeps proxies from closing an idle stream. `?type=execution,action`
 * narrows the feed.
 */
export function createEventStreamRouter(bus: EventBus): express.Router {
  const router = express.Router();
  router.get('/api/events', (req, res) => {
    const types = readTypes(req.query.type);
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

/** `?type=execution,action`: known types only, given once; refused before the stream starts. */
function readTypes(value: unknown): Set<string> | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string') throw new ValidationError('type', 'must be given once (a comma-separated list)');
  const types = value.split(',');
  for (const type of types) {
    if (!(EVENT_TYPES as readonly string[]).includes(type)) throw new ValidationError('type', `'${type.slice(0, 40)}' is not one of ${EVENT_TYPES.join(', ')}`);
  }
  return new Set(types);
}

import { randomBytes } from 'node:crypto';
import express from 'express';
import { ValidationError } from '../domain/errors';
import { DomainEvent, EventBus } from '../domain/events';

const HEARTBEAT_MS = 15_000;

/** How many of the latest events a reconnecting client can be sent again (SPEC §11: at least 1000). */
export const REPLAY_EVENTS = 1000;

/** The `type` of every DomainEvent the bus carries. */
const EVENT_TYPES: readonly DomainEvent['type'][] = ['execution', 'action', 'node', 'job'];

export interface Entry {
  seq: number;
  event: DomainEvent;
}

/** Seqs a leader's term starts above: its epoch times this, so ids grow across takeovers (SPEC §12). */
export const TERM_SEQ_BASE = 1_000_000_000;

/**
 * The bus's events numbered for the stream, with the latest `capacity` kept for clients that
 * reconnect. An id is `<stream>-<seq>`. With one daemon `stream` is new at each start, so an id
 * given by an earlier run is told apart from one of this run. Daemons sharing a PostgreSQL database
 * share one stream name: the leader numbers its events from `TERM_SEQ_BASE × epoch` up
 * (`beginTerm`), and the standbys keep the same entries with the same ids (`relayed`).
 *
 * Replay after a `Last-Event-ID` is given only when this log is sure it holds every event after it:
 * the seqs after it run without a jump. A jump (the first event of a new leader, or events this
 * standby did not hear) makes an id before it unanswerable: the client gets `reset`.
 */
export class EventLog {
  readonly boot: string;
  private readonly entries: Entry[] = [];
  private head = 0; // index in `entries` of the oldest entry (a ring once full)
  private seq = 0;
  /** The lowest id after which every event is known (moves up at each jump in the seqs). */
  private continuousFrom = 0;
  private readonly listeners = new Set<(entry: Entry) => void>();
  private readonly unsubscribe: () => void;

  constructor(bus: EventBus, private readonly capacity = REPLAY_EVENTS, stream?: string) {
    this.boot = stream ?? `${Date.now().toString(36)}${randomBytes(3).toString('hex')}`;
    this.unsubscribe = bus.subscribe((event) => this.append(this.seq + 1, event));
  }

  /** The id of the newest event (`<stream>-0` before the first). */
  get lastId(): string {
    return this.idOf(this.seq);
  }

  get lastSeq(): number {
    return this.seq;
  }

  idOf(seq: number): string {
    return `${this.boot}-${seq}`;
  }

  /** This daemon leads from now with `epoch`: its own events are numbered above every id of an earlier leader. */
  beginTerm(epoch: number): void {
    const base = epoch * TERM_SEQ_BASE;
    if (base <= this.seq) return;
    this.seq = base;
    this.continuousFrom = base;
  }

  /** An event the leader published with this seq (heard by a standby); an old or repeated one is dropped. */
  relayed(seq: number, event: DomainEvent): void {
    if (!Number.isSafeInteger(seq) || seq <= this.seq) return;
    this.append(seq, event);
  }

  /**
   * The events after `lastEventId`, oldest first; undefined when they cannot all be given: an id of
   * another stream, older than the buffer or a jump in the seqs, newer than the newest, or not an id at all.
   */
  since(lastEventId: string): Entry[] | undefined {
    const match = /^([0-9a-z]+)-(\d{1,15})$/.exec(lastEventId.trim());
    if (!match || match[1] !== this.boot) return undefined;
    const after = Number(match[2]);
    if (after > this.seq || after < this.continuousFrom) return undefined;
    const oldest = this.entries.length === 0 ? this.seq + 1 : this.at(0).seq;
    if (after < oldest - 1) return undefined;
    const out: Entry[] = [];
    for (let i = 0; i < this.entries.length; i++) {
      const entry = this.at(i);
      if (entry.seq > after) out.push(entry);
    }
    return out;
  }

  subscribe(listener: (entry: Entry) => void): () => void {
    this.listeners.add(listener);
    return () => { this.listeners.delete(listener); };
  }

  close(): void {
    this.unsubscribe();
    this.listeners.clear();
  }

  private at(i: number): Entry {
    return this.entries[(this.head + i) % this.entries.length];
  }

  private append(seq: number, event: DomainEvent): void {
    if (seq !== this.seq + 1) this.continuousFrom = seq - 1;
    this.seq = seq;
    const entry = { seq, event };
    if (this.entries.length < this.capacity) {
      this.entries.push(entry);
    } else {
      this.entries[this.head] = entry;
      this.head = (this.head + 1) % this.capacity;
    }
    for (const listener of [...this.listeners]) listener(entry);
  }
}

/**
 * `GET /api/events`: Server-Sent Events of execution and action changes (and node changes), each
 * `event: <type>` with the event as JSON in `data:` and an `id:`. A client that reconnects with
 * `Last-Event-ID` (a browser's EventSource does it by itself) is first sent what it missed; when
 * that is no longer known (older than the last REPLAY_EVENTS events, or from an earlier run of the
 * daemon) it gets an event `reset` instead, telling it to read the state afresh. A new client gets
 * the newest id at once (an `id:` line alone), so even its first reconnect misses nothing. A comment
 * line every 15 s keeps proxies from closing an idle stream. `?type=execution,action` narrows the feed.
 */
export function createEventStreamRouter(bus: EventBus, log = new EventLog(bus)): express.Router {
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
    const send = ({ seq, event }: Entry) => {
      if (types && !types.has(event.type)) return;
      const { type, ...data } = event;
      res.write(`id: ${log.idOf(seq)}\nevent: ${type}\ndata: ${JSON.stringify(data)}\n\n`);
    };
    const lastEventId = req.get('last-event-id');
    let opening = 'retry: 2000\n';
    const missed = lastEventId === undefined ? undefined : log.since(lastEventId);
    if (lastEventId === undefined) {
      opening += `id: ${log.lastId}\n\n`;
    } else if (!missed) {
      const reason = 'the events since the last one received are no longer known: read the state afresh';
      opening += `id: ${log.lastId}\nevent: reset\ndata: ${JSON.stringify({ reason })}\n\n`;
    } else {
      opening += '\n';
    }
    res.write(opening);
    // Replayed at once and in order; the listener is added in the same turn, so nothing is missed between.
    for (const entry of missed ?? []) send(entry);
    const unsubscribe = log.subscribe(send);
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

import { randomBytes } from 'node:crypto';
import { Client, Pool } from 'pg';
import { DomainEvent } from '../../domain/events';
import { log } from '../../log';
import type { Fence } from './database';

const CHANNEL = 'ecoware_events';
/** PostgreSQL refuses a NOTIFY payload of 8000 bytes or more. */
const MAX_PAYLOAD_BYTES = 7_900;
const RECONNECT_MS = 2_000;

/** One event as the leader sends it to the standbys: its seq in the stream and the event. */
export interface ChannelMessage {
  seq: number;
  event: DomainEvent;
}

/**
 * The events' channel between daemons sharing a database (SPEC §12): the leader NOTIFYs every event
 * it publishes on `ecoware_events`, with its seq; the standbys LISTEN and show them on their own
 * `/api/events` with the same ids. The payload is the event itself: an action's description too
 * long for a NOTIFY is shortened (it is for display; the execution's record keeps it whole).
 */
export class PgEventChannel {
  private sending: Promise<void> = Promise.resolve();

  constructor(
    private readonly url: string,
    private readonly pool: Pool,
    /** The fence this daemon leads under now (PgDatabase.currentFence): only a leader's events are sent. */
    private readonly fence: () => Fence | null | undefined,
  ) {}

  /**
   * Sends in the order given: one NOTIFY at a time, so standbys hear the events in order. Fenced as
   * writes are: the NOTIFY is sent only while the lease row still names this daemon with its epoch,
   * so a leader resumed after a pause tells the standbys nothing. A NOTIFY that fails or is fenced
   * is dropped: a standby then sees a jump in the seqs (and tells its clients to read the state afresh).
   */
  notify(seq: number, event: DomainEvent): void {
    const payload = encode({ seq, event });
    this.sending = this.sending
      .then(() => {
        const fence = this.fence();
        if (!fence) return undefined;
        return this.pool.query(`SELECT pg_notify($1, $2) FROM lease
          WHERE name = 'leader' AND holder = $3 AND epoch = $4 AND expires_at > now()`, [CHANNEL, payload, fence.holder, fence.epoch]);
      })
      .then(() => undefined, (e: Error) => log.warn({ err: e.message, seq }, 'could not send an event to the standbys'));
  }

  /** Resolves once every event given so far was sent (or dropped). */
  flushed(): Promise<void> {
    return this.sending;
  }

  /**
   * LISTENs on a connection of its own, reconnecting every 2 s while the database does not answer;
   * `onMessage` gets each event in the order the leader sent them. Returns what stops listening.
   */
  listen(onMessage: (message: ChannelMessage) => void): () => Promise<void> {
    let stopped = false;
    let client: Client | undefined;
    let timer: NodeJS.Timeout | undefined;
    const connect = async () => {
      timer = undefined;
      if (stopped) return;
      const c = new Client({ connectionString: this.url, connectionTimeoutMillis: RECONNECT_MS * 2 });
      client = c;
      const retry = () => {
        if (client !== c) return;
        client = undefined;
        void c.end().catch(() => undefined);
        if (!stopped) timer = setTimeout(() => void connect(), RECONNECT_MS);
      };
      c.on('error', retry);
      c.on('end', retry);
      c.on('notification', (n) => {
        const message = decode(n.payload);
        if (message) onMessage(message);
      });
      try {
        await c.connect();
        await c.query(`LISTEN ${CHANNEL}`);
      } catch (e) {
        log.warn({ err: (e as Error).message }, 'cannot listen for the leader\'s events; retrying');
        retry();
      }
    };
    void connect();
    return async () => {
      stopped = true;
      if (timer) clearTimeout(timer);
      const c = client;
      client = undefined;
      await c?.end().catch(() => undefined);
    };
  }
}

/**
 * The name of the events' stream shared by every daemon of this database (the `<stream>` of event
 * ids), made by the first daemon that asks. It names the database's history, not a lease: written
 * outside the fence, once, and never changed.
 */
export async function sharedStreamName(pool: Pool): Promise<string> {
  await pool.query("INSERT INTO meta (key, value) VALUES ('event_stream', $1) ON CONFLICT (key) DO NOTHING", [randomBytes(6).toString('hex')]);
  const { rows } = await pool.query("SELECT value FROM meta WHERE key = 'event_stream'");
  return String(rows[0].value);
}

/** The message as JSON, under PostgreSQL's payload limit. */
export function encode(message: ChannelMessage): string {
  const text = JSON.stringify(message);
  if (Buffer.byteLength(text) <= MAX_PAYLOAD_BYTES || message.event.type !== 'action') return text;
  const over = Buffer.byteLength(text) - MAX_PAYLOAD_BYTES;
  const description = message.event.description;
  // Cut by characters, at least as many as the bytes over (a character is one byte or more), and a margin for the ellipsis.
  const shortened = `${description.slice(0, Math.max(0, description.length - over - 16))}…`;
  return JSON.stringify({ seq: message.seq, event: { ...message.event, description: shortened } });
}

export function decode(payload: string | undefined): ChannelMessage | undefined {
  try {
    const message = JSON.parse(payload ?? '') as Partial<ChannelMessage>;
    const event = message.event as DomainEvent | undefined;
    if (typeof message.seq !== 'number' || !event || !['execution', 'action', 'node'].includes(event.type)) return undefined;
    return { seq: message.seq, event };
  } catch {
    return undefined;
  }
}

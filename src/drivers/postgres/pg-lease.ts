import * as crypto from 'node:crypto';
import * as os from 'node:os';
import { Client, Pool } from 'pg';
import { log } from '../../log';
import { Fence, PgDatabase } from './database';

export const DEFAULT_LEASE_S = 15;
export const RENEW_EVERY_MS = 2_000;
const CHANNEL = 'ecoware_lease';

/** Who leads, as the lease row says (`GET /api/leader`). */
export interface LeaderInfo {
  holder: string;
  url: string | null;
  since: string;
  epoch: number;
}

export type LeaseRole = 'leader' | 'standby';

export interface LeaseOptions {
  leaseS?: number;
  renewEveryMs?: number;
  /** This daemon's URL for the others to redirect changes to (`--advertise-url`). */
  advertiseUrl?: string;
  holder?: string;
}

/**
 * The leader's lease on PostgreSQL (SPEC §12): the row `lease('leader')` names the holder, its
 * epoch and `expires_at`, all times from the database's clock (`now()`), so the daemons' clocks do
 * not matter. Taking the lease over increments the epoch; the epoch is the fence every write of
 * the leader carries (PgDatabase.write).
 *
 * The leader renews every `renewEveryMs`. Counting on its own monotonic clock from the moment it
 * sent its last successful renewal, it stops acting after two thirds of the lease (the deadline),
 * before the row can expire on the database's clock: `onLost` listeners hear it at once, writes are
 * refused from then on, and it goes back to standing by. A standby tries to take the row every
 * `renewEveryMs`, and at once when the leader releases it (LISTEN on `ecoware_lease`, which the
 * release NOTIFYs), so a clean stop hands over in well under a second.
 */
export class PgLease {
  readonly holder: string;
  readonly leaseMs: number;
  readonly renewEveryMs: number;
  private readonly pool: Pool;
  private fence: Fence | undefined;
  /** Local monotonic time (ms) after which this daemon must not act on its last renewal. */
  private deadline = 0;
  private timer?: NodeJS.Timeout;
  private deadlineTimer?: NodeJS.Timeout;
  private listener?: Client;
  private stopped = false;
  /** The last failure to reach the database, cleared by the next success (for `/readyz`). */
  lastError: string | undefined;
  private attempt: Promise<void> = Promise.resolve();
  /** A release was NOTIFYed since the current round began. */
  private released = false;
  private readonly leadingListeners: ((fence: Fence) => void)[] = [];
  private readonly lostListeners: ((reason: string) => void)[] = [];

  constructor(private readonly url: string, private readonly db: PgDatabase | undefined, private readonly options: LeaseOptions = {}) {
    this.holder = options.holder ?? `${os.hostname()}:${process.pid}:${crypto.randomBytes(3).toString('hex')}`;
    this.leaseMs = Math.round((options.leaseS ?? DEFAULT_LEASE_S) * 1000);
    this.renewEveryMs = options.renewEveryMs ?? Math.min(RENEW_EVERY_MS, Math.floor(this.leaseMs / 4));
    // Its own small pool: renewals never wait behind the state's queries; a renewal that hangs
    // fails after one renewal period (and the deadline does the rest).
    this.pool = new Pool({ connectionString: url, max: 2, connectionTimeoutMillis: this.renewEveryMs, query_timeout: this.renewEveryMs, idleTimeoutMillis: 60_000 });
    this.pool.on('error', (e) => log.warn({ err: e.message }, 'a PostgreSQL connection of the lease failed; it is replaced'));
    db?.setFence(null);
  }

  get role(): LeaseRole {
    return this.fence && performance.now() < this.deadline ? 'leader' : 'standby';
  }

  /** The fence in force, while this daemon may act on it (undefined otherwise). */
  get currentFence(): Fence | undefined {
    return this.role === 'leader' ? this.fence : undefined;
  }

  onLeading(listener: (fence: Fence) => void): () => void {
    this.leadingListeners.push(listener);
    return () => this.leadingListeners.splice(this.leadingListeners.indexOf(listener), 1);
  }

  /** Called at once when this daemon stops leading (missed its deadline, or found the row taken). */
  onLost(listener: (reason: string) => void): () => void {
    this.lostListeners.push(listener);
    return () => this.lostListeners.splice(this.lostListeners.indexOf(listener), 1);
  }

  /**
   * Starts contending: tries at once, then every renewal period, and on every release. Resolves
   * when the first try is over (this daemon leads, or another does; a failure is retried).
   */
  start(): Promise<void> {
    this.stopped = false;
    void this.listen();
    this.attempt = this.tick();
    return this.attempt;
  }

  /** Resolves once this daemon leads (never, if it is stopped first). */
  waitUntilLeading(): Promise<Fence> {
    if (this.currentFence) return Promise.resolve(this.currentFence);
    return new Promise((resolve) => { const off = this.onLeading((fence) => { off(); resolve(fence); }); });
  }

  async leader(): Promise<LeaderInfo | undefined> {
    const { rows } = await this.pool.query(
      "SELECT holder, url, since, epoch FROM lease WHERE name = 'leader' AND holder IS NOT NULL AND expires_at > now()");
    const row = rows[0] as { holder: string; url: string | null; since: Date; epoch: string } | undefined;
    return row ? { holder: row.holder, url: row.url, since: row.since.toISOString(), epoch: Number(row.epoch) } : undefined;
  }

  /** Stops contending; a leader gives the row up (and NOTIFYs the standbys) so one takes over at once. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.attempt.catch(() => undefined);
    const fence = this.fence;
    this.lose('stopping', false);
    if (fence) {
      await this.pool.query(`WITH released AS (
          UPDATE lease SET holder = NULL, url = NULL, expires_at = '-infinity' WHERE name = 'leader' AND holder = $1 AND epoch = $2 RETURNING 1)
        SELECT pg_notify('${CHANNEL}', 'released') FROM released`, [fence.holder, fence.epoch])
        .catch((e: Error) => log.warn({ err: e.message }, 'could not release the lease: a standby takes over when it expires'));
    }
    await this.listener?.end().catch(() => undefined);
    this.listener = undefined;
    await this.pool.end().catch(() => undefined);
  }

  private schedule(delayMs: number): void {
    if (this.stopped) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => { this.attempt = this.tick(); }, delayMs);
    this.timer.unref();
  }

  private async tick(): Promise<void> {
    this.released = false;
    const sentAt = performance.now();
    try {
      if (this.fence) await this.renew(sentAt);
      else await this.acquire(sentAt);
      this.lastError = undefined;
    } catch (e) {
      this.lastError = (e as Error).message;
      log.warn({ err: (e as Error).message, role: this.role }, 'the lease could not be read or renewed');
      if (this.fence && performance.now() >= this.deadline) this.lose('the lease could not be renewed before its deadline');
    }
    if (!this.listener && !this.stopped) void this.listen();
    // A release heard while this round was under way: try again at once, not a period later.
    this.schedule(this.released && !this.fence ? 0 : this.renewEveryMs);
  }

  private async acquire(sentAt: number): Promise<void> {
    const { rows } = await this.pool.query(`UPDATE lease SET
        epoch = CASE WHEN holder = $1 AND expires_at > now() THEN epoch ELSE epoch + 1 END,
        since = CASE WHEN holder = $1 AND expires_at > now() THEN since ELSE now() END,
        holder = $1, url = $2, expires_at = now() + make_interval(secs => $3)
      WHERE name = 'leader' AND (holder IS NULL OR holder = $1 OR expires_at <= now())
      RETURNING epoch`, [this.holder, this.options.advertiseUrl ?? null, this.leaseMs / 1000]);
    if (this.stopped || rows.length === 0) return;
    if (this.fence) {
      this.extend(sentAt);
      return;
    }
    this.fence = { holder: this.holder, epoch: Number(rows[0].epoch) };
    this.extend(sentAt);
    this.db?.setFence(this.fence);
    log.info({ holder: this.holder, epoch: this.fence.epoch }, 'leading: took the lease');
    for (const listener of [...this.leadingListeners]) listener(this.fence);
  }

  private async renew(sentAt: number): Promise<void> {
    const fence = this.fence;
    if (!fence) return;
    if (performance.now() >= this.deadline) {
      this.lose('the lease was not renewed before its deadline');
      return;
    }
    const { rowCount } = await this.pool.query(`UPDATE lease SET expires_at = now() + make_interval(secs => $3)
      WHERE name = 'leader' AND holder = $1 AND epoch = $2 AND expires_at > now()`, [fence.holder, fence.epoch, this.leaseMs / 1000]);
    if (this.fence !== fence) return;
    if (rowCount === 1 && performance.now() < this.deadline) this.extend(sentAt);
    else this.lose(rowCount === 1 ? 'the renewal came back after the deadline' : 'the lease was taken over');
  }

  /** A successful renewal sent at `sentAt`: act until two thirds of the lease from then. */
  private extend(sentAt: number): void {
    this.deadline = sentAt + (this.leaseMs * 2) / 3;
    if (this.deadlineTimer) clearTimeout(this.deadlineTimer);
    this.deadlineTimer = setTimeout(() => {
      if (this.fence && performance.now() >= this.deadline) this.lose('the lease was not renewed before its deadline');
    }, Math.max(0, this.deadline - performance.now()) + 1);
    this.deadlineTimer.unref();
  }

  private lose(reason: string, announce = true): void {
    if (!this.fence) return;
    this.fence = undefined;
    this.deadline = 0;
    if (this.deadlineTimer) clearTimeout(this.deadlineTimer);
    this.db?.setFence(null);
    if (!announce) return;
    log.error({ holder: this.holder, reason }, 'not leading any more: no further engine or cloud call');
    for (const listener of [...this.lostListeners]) listener(reason);
  }

  /** LISTENs for releases on a connection of its own; a broken one is replaced at the next tick. */
  private async listen(): Promise<void> {
    if (this.listener || this.stopped) return;
    const client = new Client({ connectionString: this.url, connectionTimeoutMillis: this.renewEveryMs });
    this.listener = client;
    const drop = () => {
      if (this.listener === client) this.listener = undefined;
      void client.end().catch(() => undefined);
    };
    client.on('error', drop);
    client.on('end', drop);
    client.on('notification', () => {
      if (this.fence) return;
      this.released = true;
      this.schedule(0);
    });
    try {
      await client.connect();
      await client.query(`LISTEN ${CHANNEL}`);
    } catch {
      drop();
    }
  }
}

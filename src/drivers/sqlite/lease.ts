import * as os from 'node:os';
import { SqliteDatabase } from './database';

export const LEASE_TTL_MS = 15_000;
export const LEASE_RENEW_MS = 5_000;

/** Another live daemon holds the state dir. */
export class LeaseHeldError extends Error {
  constructor(readonly holder: string, readonly since: string, stateDir: string) {
    super(`state dir ${stateDir} is in use by ${holder} since ${since}: stop that daemon first, or give this one another --state-dir`);
    this.name = 'LeaseHeldError';
  }
}

interface LeaseRow {
  holder: string;
  acquired_at: string;
  expires_at: number;
}

/**
 * One daemon per state dir: a row naming the holder `host:pid`, renewed every 5 s and valid 15 s.
 * A second daemon refuses to start while the row is valid, unless the holder is a process of this
 * host that no longer exists (a daemon killed with -9 does not make the next start wait).
 */
export class StateLease {
  readonly holder = `${os.hostname()}:${process.pid}`;
  private timer?: NodeJS.Timeout;

  constructor(private readonly db: SqliteDatabase, private readonly stateDir: string) {}

  acquire(): void {
    this.db.transaction(() => {
      const row = this.db.prepare("SELECT holder, acquired_at, expires_at FROM lease WHERE name = 'daemon'").get() as LeaseRow | undefined;
      if (row && row.holder !== this.holder && row.expires_at > Date.now() && holderAlive(row.holder)) {
        throw new LeaseHeldError(row.holder, row.acquired_at, this.stateDir);
      }
      this.db.prepare(`INSERT INTO lease (name, holder, acquired_at, expires_at) VALUES ('daemon', ?, ?, ?)
        ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, acquired_at = excluded.acquired_at, expires_at = excluded.expires_at`)
        .run(this.holder, new Date().toISOString(), Date.now() + LEASE_TTL_MS);
    }).immediate();
    this.timer = setInterval(() => this.renew(), LEASE_RENEW_MS);
    this.timer.unref();
  }

  renew(): void {
    this.db.prepare("UPDATE lease SET expires_at = ? WHERE name = 'daemon' AND holder = ?").run(Date.now() + LEASE_TTL_MS, this.holder);
  }

  release(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    this.db.prepare("DELETE FROM lease WHERE name = 'daemon' AND holder = ?").run(this.holder);
  }
}

/** False only when the holder is a process of this host that is gone. */
function holderAlive(holder: string): boolean {
  const at = holder.lastIndexOf(':');
  const host = holder.slice(0, at);
  const pid = Number(holder.slice(at + 1));
  if (host !== os.hostname() || !Number.isInteger(pid)) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

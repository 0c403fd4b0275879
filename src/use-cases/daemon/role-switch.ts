import { errorMessage } from '../../domain/errors';
import { log } from '../../log';

export type Role = 'leader' | 'standby';

/** One role of the daemon from the moment it takes it until it gives it up (built afresh each time). */
export interface RoleTerm {
  readonly role: Role;
  /** The lease's epoch a leader's term acts under. */
  readonly epoch?: number;
  /** Before the term's app answers (a leader: "starting" for what needs the topology). */
  prepare(): Promise<void>;
  /** The term's app answers: its work starts; resolves once it serves. */
  serve(): Promise<void>;
  /** `lost`: the lead is gone, nothing more is tried; `shutdown`: the running execution may finish. */
  stop(how: 'shutdown' | 'lost'): Promise<void>;
}

/** What the switch needs of the lease (drivers/postgres/pg-lease.ts). */
export interface LeaseSignals {
  /** The epoch this daemon may act under now; undefined while it does not lead. */
  readonly currentFence: { epoch: number } | undefined;
  onLeading(listener: () => void): unknown;
  onLost(listener: () => void): unknown;
}

/**
 * Keeps the daemon's term in step with the lease (SPEC §12), one change at a time:
 *
 *   (none) ──lease free──▶ leader(epoch) ──lost──▶ standby ──taken──▶ leader(epoch+n) …
 *      └──another leads──▶ standby ─────────────────┘
 *
 * Standby → leader: the standby's term stops first (its app answers until the leader's is
 * prepared), then the leader's term starts as a restarted daemon does. Leader → standby: the
 * standby's app answers at once, then the leader's term ends behind it (it acts no more already:
 * the lease's guard refuses its engine calls and its writes). A lease lost and taken again before
 * the switch ran starts a new leader's term (a new epoch is a new term). `close` waits for the
 * change under way and stops the term in force; no change happens after it.
 */
export class RoleSwitch<T extends RoleTerm> {
  private term?: T;
  private switching: Promise<void> = Promise.resolve();
  private closing?: Promise<void>;
  private resolveServing?: () => void;
  private resolveLeading?: () => void;
  /** Resolves once a first term serves, whichever its role. */
  readonly serving = new Promise<void>((resolve) => { this.resolveServing = resolve; });
  /** Resolves once a leader's term first serves. */
  readonly leading = new Promise<void>((resolve) => { this.resolveLeading = resolve; });

  constructor(
    private readonly lease: LeaseSignals,
    private readonly terms: { leader(epoch: number): T; standby(): T },
    /** Told of each term as its app starts answering. */
    private readonly onChange: (term: T) => void = () => undefined,
  ) {
    lease.onLeading(() => this.settle());
    lease.onLost(() => this.settle());
  }

  get current(): T | undefined {
    return this.term;
  }

  /** Makes the term match the lease (the lease's listeners call this; call it once after starting the lease). */
  settle(): Promise<void> {
    this.switching = this.switching.then(() => this.change()).catch((e) => log.error({ err: errorMessage(e) }, 'changing role failed'));
    return this.switching;
  }

  close(how: 'shutdown' | 'lost' = 'shutdown'): Promise<void> {
    this.closing ??= (async () => {
      await this.switching;
      await this.term?.stop(how);
    })();
    return this.closing;
  }

  private async change(): Promise<void> {
    if (this.closing) return;
    const fence = this.lease.currentFence;
    const previous = this.term;
    if (fence ? previous?.role === 'leader' && previous.epoch === fence.epoch : previous?.role === 'standby') return;
    let next: T;
    if (fence) {
      await previous?.stop('lost');
      next = this.terms.leader(fence.epoch);
      await next.prepare();
      this.term = next;
      this.onChange(next);
      log.info({ epoch: fence.epoch }, 'leading: starting as a restarted daemon does (unfinished executions interrupted, the fleet read from the engines)');
    } else {
      next = this.terms.standby();
      await next.prepare();
      this.term = next;
      this.onChange(next);
      if (previous) log.warn('not leading any more: stopped acting; standing by and trying to take the lease again');
      await previous?.stop('lost');
    }
    void next.serve().then(() => {
      this.resolveServing?.();
      if (next.role === 'leader') this.resolveLeading?.();
    }, (e) => log.error({ err: errorMessage(e), role: next.role }, 'starting the role failed'));
  }
}

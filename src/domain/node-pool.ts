/** Nodes the allocator may not place new containers on, by VM name. */
export interface NodeLimits {
  /** Engines that stopped answering: left out of the problem, their containers left alone. */
  unreachable: ReadonlySet<string>;
  /** Kept from new placements: what runs there stays and may shrink, nothing grows or arrives. */
  cordoned: ReadonlySet<string>;
  /** Being emptied: every container there must move to another node. */
  draining: ReadonlySet<string>;
}

export const NO_NODE_LIMITS: NodeLimits = { unreachable: new Set(), cordoned: new Set(), draining: new Set() };

export type NodeHealth = 'ready' | 'unreachable';

/** Consecutive failed pings that make a node unreachable (one success makes it ready again). */
export const FAILURES_TO_UNREACHABLE = 3;

/** What the health loop knows of one node. */
export interface NodeStatus {
  health: NodeHealth;
  /** Failed pings in a row. */
  failures: number;
  /** When the engine last answered (ISO time). */
  lastSeen?: string;
  /** Round trip of the last answered ping. */
  pingMs?: number;
  lastError?: string;
  /** Epoch ms since when the node has been unreachable. */
  unreachableSinceMs?: number;
  /** Set once a node unreachable for `node_lost_after_s` has been declared lost. */
  lost?: boolean;
}

export type HealthChange = { name: string; health: NodeHealth; previous: NodeHealth; /** Back from being lost (its tiers were placed elsewhere). */ wasLost?: boolean };

/**
 * The node pool's own state, beside the cluster: health from the ping loop, cordons (persisted by
 * their owner, see use-cases/nodes/node-admin.ts) and nodes being drained. A node never seen is ready.
 */
export class NodePool {
  private readonly status = new Map<string, NodeStatus>();
  private cordons = new Set<string>();
  private readonly draining = new Set<string>();
  /** Lost nodes whose tiers were placed elsewhere: what they still run is removed when they come back. */
  private readonly replaced = new Set<string>();

  get(name: string): NodeStatus {
    let s = this.status.get(name);
    if (!s) this.status.set(name, (s = { health: 'ready', failures: 0 }));
    return s;
  }

  /** An engine answered: the node is ready at once. Returns the change, if any. */
  succeeded(name: string, pingMs: number, now = Date.now()): HealthChange | undefined {
    const s = this.get(name);
    const previous = s.health;
    const wasLost = s.lost === true;
    Object.assign(s, { health: 'ready', failures: 0, lastSeen: new Date(now).toISOString(), pingMs, lastError: undefined, unreachableSinceMs: undefined, lost: undefined });
    return previous !== 'ready' ? { name, health: 'ready', previous, ...(wasLost ? { wasLost } : {}) } : undefined;
  }

  /** A ping failed; the third in a row (or `immediately`, for an engine down at start) makes it unreachable. */
  failed(name: string, error: string, now = Date.now(), immediately = false): HealthChange | undefined {
    const s = this.get(name);
    s.failures++;
    s.lastError = error;
    if (s.health === 'ready' && (immediately || s.failures >= FAILURES_TO_UNREACHABLE)) {
      s.health = 'unreachable';
      s.unreachableSinceMs = now;
      return { name, health: 'unreachable', previous: 'ready' };
    }
    return undefined;
  }

  /** Unreachable nodes that have been so for `lostAfterMs` and are not yet declared lost; declares them. */
  newlyLost(lostAfterMs: number, now = Date.now()): string[] {
    const lost: string[] = [];
    for (const [name, s] of this.status) {
      if (s.health !== 'unreachable' || s.lost || s.unreachableSinceMs === undefined) continue;
      if (now - s.unreachableSinceMs < lostAfterMs) continue;
      s.lost = true;
      lost.push(name);
    }
    return lost.sort();
  }

  /** Nodes no longer in the fleet are forgotten, their cordon too. */
  retain(names: Iterable<string>): void {
    const keep = new Set(names);
    for (const name of [...this.status.keys()]) if (!keep.has(name)) this.status.delete(name);
  }

  isCordoned(name: string): boolean { return this.cordons.has(name); }
  cordoned(): string[] { return [...this.cordons].sort(); }
  setCordons(names: Iterable<string>): void { this.cordons = new Set(names); }
  cordon(name: string): boolean { const had = this.cordons.has(name); this.cordons.add(name); return !had; }
  uncordon(name: string): boolean { return this.cordons.delete(name); }

  markReplaced(name: string): void { this.replaced.add(name); }
  /** True once for a replaced node (the caller cleans it up). */
  takeReplaced(name: string): boolean { return this.replaced.delete(name); }

  isDraining(name: string): boolean { return this.draining.has(name); }
  startDrain(name: string): void { this.draining.add(name); }
  endDrain(name: string): void { this.draining.delete(name); }

  unreachable(): string[] {
    return [...this.status].filter(([, s]) => s.health === 'unreachable').map(([n]) => n).sort();
  }

  /** What the allocator must respect now; `extra` adds limits for one decision (a drain preview). */
  limits(extra: Partial<Record<keyof NodeLimits, Iterable<string>>> = {}): NodeLimits {
    return {
      unreachable: new Set([...this.unreachable(), ...(extra.unreachable ?? [])]),
      cordoned: new Set([...this.cordons, ...(extra.cordoned ?? [])]),
      draining: new Set([...this.draining, ...(extra.draining ?? [])]),
    };
  }
}

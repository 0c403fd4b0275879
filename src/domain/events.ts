import type { ActionStatus, ExecutionKind, ExecutionStatus } from './execution';
import type { JobStatus } from './job';

export type { ExecutionKind };

/**
 * What the daemon tells subscribers (the SSE feed, metrics, the record store, a future dashboard or
 * `apply --follow`) as it happens. Every state change of an execution or of one of its actions is
 * published exactly once, in the order it happened.
 */
export interface ExecutionEvent {
  type: 'execution';
  id: string;
  status: ExecutionStatus | 'superseded';
  kind: ExecutionKind;
  at: string;
  /** A finished drift repair: the kind of each drift it found (`stopped`, `missing` …). */
  drift?: string[];
}

export interface ActionEvent {
  type: 'action';
  execution_id: string;
  layer: number;
  index: number;
  status: ActionStatus;
  description: string;
  at: string;
}

/** Node pool changes (health, cordon), for the node-pool feed. */
export interface NodeEvent {
  type: 'node';
  name: string;
  health?: 'ready' | 'unreachable' | 'lost';
  cordoned?: boolean;
  at: string;
}

/** A job's status changed (SPEC §10). */
export interface JobEvent {
  type: 'job';
  id: string;
  status: JobStatus;
  template: string;
  at: string;
}

export type DomainEvent = ExecutionEvent | ActionEvent | NodeEvent | JobEvent;

export type EventListener = (event: DomainEvent) => void;

/**
 * An in-process publish/subscribe channel. Publishing never throws and never waits: a listener that
 * throws is isolated from the publisher and from the other listeners.
 */
export class EventBus {
  private readonly listeners = new Set<EventListener>();

  subscribe(listener: EventListener): () => void {
    this.listeners.add(listener);
    return () => {
      this.listeners.delete(listener);
    };
  }

  publish(event: DomainEvent): void {
    for (const listener of [...this.listeners]) {
      try {
        listener(event);
      } catch {
        // A failing subscriber must not break the execution that published.
      }
    }
  }

  get listenerCount(): number {
    return this.listeners.size;
  }
}

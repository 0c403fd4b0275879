import type { ExecutionStatus } from '../domain/execution';
import type { ExecutionRecordWire } from '../http/wire';
import { DaemonClient, DaemonUnreachableError, errorOf } from './daemon-client';
import { followEvents, StreamEvent } from './event-stream-client';

/** What the command line reads of an execution record (GET /api/executions/:id). */
export type ExecutionView = ExecutionRecordWire;

/** Superseded is not among them: the command line follows a superseded plan into the newer one. */
const FINISHED = new Set<ExecutionStatus>(['succeeded', 'failed', 'cancelled']);

function isFinishedView(execution: ExecutionView): boolean {
  return FINISHED.has(execution.status);
}

/** Where the updates of one execution come from (the daemon's event stream: EventStreamExecutionSource). */
export interface ExecutionSource {
  /**
   * Calls `onUpdate` each time the execution may have changed and resolves with it once it has
   * finished. A superseded execution is followed into the one that superseded it.
   */
  follow(id: string, onUpdate: (execution: ExecutionView) => void, signal: AbortSignal): Promise<ExecutionView>;
}

/**
 * Follows an execution through `GET /api/events`: the record is read once the stream is open, then
 * again each time an event names the execution (or the stream was reopened, or said `reset`), so
 * every change shows as it happens without asking the daemon in between. Reads never overlap: events
 * that come during one read lead to one more read after it.
 */
export class EventStreamExecutionSource implements ExecutionSource {
  constructor(private readonly client: DaemonClient, private readonly unreachableBudgetMs = 60_000) {}

  follow(id: string, onUpdate: (execution: ExecutionView) => void, signal: AbortSignal): Promise<ExecutionView> {
    const stop = new AbortController();
    const onAbort = () => stop.abort(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    let current = id;
    let reading = false;
    let again = false;
    return new Promise<ExecutionView>((resolve, reject) => {
      const fail = (err: unknown) => { stop.abort(); reject(err); };
      const read = async (): Promise<void> => {
        if (reading) { again = true; return; }
        reading = true;
        try {
          do {
            again = false;
            const answer = await this.client.send<ExecutionView>('GET', `/api/executions/${encodeURIComponent(current)}`, undefined, stop.signal);
            if (answer.status !== 200) throw errorOf(answer, `GET /api/executions/${current}`);
            const execution = answer.body;
            onUpdate(execution);
            if (execution.status === 'superseded' && execution.superseded_by) {
              current = execution.superseded_by;
              again = true;
            } else if (isFinishedView(execution)) {
              stop.abort();
              resolve(execution);
              return;
            }
          } while (again);
        } catch (err) {
          if (stop.signal.aborted) return;
          // The stream notices a restarting daemon and reads again once it is back.
          if (!(err instanceof DaemonUnreachableError)) fail(err);
        } finally {
          reading = false;
        }
      };
      const onEvent = (event: StreamEvent) => {
        const data = event.data as { id?: string; execution_id?: string };
        if (event.type === 'reset' || data.id === current || data.execution_id === current) void read();
      };
      followEvents(this.client, onEvent, stop.signal, {
        types: ['execution', 'action'],
        unreachableBudgetMs: this.unreachableBudgetMs,
        onOpen: () => { void read(); },
      }).then(() => { if (signal.aborted) reject(signal.reason); }, (err) => { if (signal.aborted) reject(signal.reason); else if (!stop.signal.aborted) fail(err); });
    }).finally(() => signal.removeEventListener('abort', onAbort));
  }
}

/**
 * Progress for a person at a terminal: one line when the execution changes status, when a layer
 * starts, and when each action starts and finishes (with its duration). An action that started and
 * finished between two updates gets its finishing line only.
 */
export class ProgressPrinter {
  private readonly printed = new Map<string, string>();
  private readonly layersShown = new Set<string>();
  private readonly lastStatus = new Map<string, string>();

  constructor(private readonly write: (line: string) => void) {}

  update(execution: ExecutionView): void {
    if (this.lastStatus.get(execution.id) !== execution.status) {
      this.lastStatus.set(execution.id, execution.status);
      if (execution.status === 'superseded') {
        this.write(`execution ${execution.id} superseded by ${execution.superseded_by}, a newer plan that includes it; following that one`);
      } else if (!isFinishedView(execution)) {
        this.write(`execution ${execution.id} ${execution.status}`);
      }
    }
    execution.steps.forEach((layer, l) => {
      const layerKey = `${execution.id}/${l}`;
      if (!this.layersShown.has(layerKey) && layer.some((a) => a.status !== 'pending')) {
        this.layersShown.add(layerKey);
        this.write(`layer ${l + 1}/${execution.steps.length}`);
      }
      layer.forEach((action, a) => {
        const key = `${layerKey}/${a}`;
        const before = this.printed.get(key);
        if (before === action.status) return;
        if (action.status === 'running') {
          this.write(`  … ${action.description}`);
        } else if (action.status === 'succeeded') {
          this.write(`  ✓ ${action.description} (${seconds(action.duration_ms)})`);
        } else if (action.status === 'failed') {
          this.write(`  ✗ ${action.description} failed after ${seconds(action.duration_ms)}: ${action.error ?? 'no reason given'}`);
        } else if (action.status === 'skipped' || action.status === 'cancelled') {
          this.write(`  - ${action.description} ${action.status}`);
        } else {
          return;
        }
        this.printed.set(key, action.status);
      });
    });
  }

  finish(execution: ExecutionView): void {
    const took = execution.finished_at ? ` in ${seconds(Date.parse(execution.finished_at) - Date.parse(execution.created_at))}` : '';
    const actions = execution.steps.flat().length;
    if (execution.status === 'succeeded') {
      this.write(`execution ${execution.id} succeeded${took}: ${actions} action${actions === 1 ? '' : 's'}${execution.cost !== undefined ? `, cost ${execution.cost}` : ''}`);
    } else {
      this.write(`execution ${execution.id} ${execution.status}${took}${execution.error ? `: ${execution.error.message} (${execution.error.code})` : ''}`);
    }
  }
}

function seconds(ms: number | undefined): string {
  if (ms === undefined || !Number.isFinite(ms)) return '?';
  return ms < 1000 ? `${Math.round(ms)} ms` : `${(ms / 1000).toFixed(1)} s`;
}

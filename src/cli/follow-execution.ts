import type { ExecutionStatus } from '../domain/execution';
import type { ExecutionRecordWire } from '../http/wire';
import { DaemonClient, DaemonUnreachableError, errorOf } from './daemon-client';

/** What the command line reads of an execution record (GET /api/executions/:id). */
export type ExecutionView = ExecutionRecordWire;

/** Superseded is not among them: the command line follows a superseded plan into the newer one. */
const FINISHED = new Set<ExecutionStatus>(['succeeded', 'failed', 'cancelled']);

function isFinishedView(execution: ExecutionView): boolean {
  return FINISHED.has(execution.status);
}

/**
 * Where the updates of one execution come from. The polling source reads the record again and again;
 * a source on the daemon's event stream (`GET /api/events`) can take its place behind this interface.
 */
export interface ExecutionSource {
  /**
   * Calls `onUpdate` each time the execution may have changed and resolves with it once it has
   * finished. A superseded execution is followed into the one that superseded it.
   */
  follow(id: string, onUpdate: (execution: ExecutionView) => void, signal: AbortSignal): Promise<ExecutionView>;
}

export class PollingExecutionSource implements ExecutionSource {
  constructor(
    private readonly client: DaemonClient,
    private readonly intervalMs = 400,
    /** How long the daemon may stay unreachable (a restart) before following gives up. */
    private readonly unreachableBudgetMs = 60_000,
  ) {}

  async follow(id: string, onUpdate: (execution: ExecutionView) => void, signal: AbortSignal): Promise<ExecutionView> {
    let current = id;
    let unreachableSince: number | undefined;
    for (;;) {
      let execution: ExecutionView;
      try {
        const answer = await this.client.send<ExecutionView>('GET', `/api/executions/${encodeURIComponent(current)}`, undefined, signal);
        if (answer.status !== 200) throw errorOf(answer, `GET /api/executions/${current}`);
        execution = answer.body;
        unreachableSince = undefined;
      } catch (err) {
        if (signal.aborted) throw err;
        // A daemon being restarted answers again soon; anything else ends the wait at once.
        if (!(err instanceof DaemonUnreachableError)) throw err;
        unreachableSince ??= Date.now();
        if (Date.now() - unreachableSince > this.unreachableBudgetMs) throw err;
        await sleep(this.intervalMs * 5, signal);
        continue;
      }
      onUpdate(execution);
      if (execution.status === 'superseded' && execution.superseded_by) {
        current = execution.superseded_by;
        continue;
      }
      if (isFinishedView(execution)) return execution;
      await sleep(this.intervalMs, signal);
    }
  }
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) { reject(signal.reason); return; }
    const timer = setTimeout(() => { signal.removeEventListener('abort', onAbort); resolve(); }, ms);
    const onAbort = () => { clearTimeout(timer); reject(signal.reason); };
    signal.addEventListener('abort', onAbort, { once: true });
  });
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

import { Allocation } from '../../domain/allocation';
import { VmReport } from '../../domain/cluster';
import { ErrorCode, errorMessage } from '../../domain/errors';
import { ActionStatus, ActionError, Execution, finishAction, isFinished, finishExecution, kindOf, markInterrupted, newRecords, passAction, startAction, startExecution, supersedeExecution } from '../../domain/execution';
import { EventBus } from '../../domain/events';
import { HookResult } from '../../domain/hook-result';
import { ActionRef, RunReport } from '../../executor/run-contract';
import { log } from '../../log';
import { ExecutionStore } from '../../ports/execution-store';
import { Decision } from './decide';

/** A busy execution is written at most this often while it runs; its transitions are written at once. */
const PROGRESS_SAVE_MS = 200;

/**
 * The one writer of an execution record while it lives: every change goes through here, as a
 * transition of domain/execution.ts, and every status change is published on the bus once, in the
 * order it happened. Writes go to the store in the background (the store keeps one execution's
 * writes in order); `flush` waits for the last.
 */
export class ExecutionJournal implements RunReport {
  private lastSave = 0;
  private pendingSave?: NodeJS.Timeout;

  constructor(readonly execution: Execution, private readonly store: ExecutionStore, private readonly bus: EventBus) {}

  /** Saves and announces a new, queued execution. */
  async open(): Promise<void> {
    await this.store.save(this.execution);
    this.publishExecution();
  }

  start(): void {
    startExecution(this.execution);
    this.publishExecution();
    this.saveSoon();
  }

  observed(allocationBefore: Allocation, hooksCommit: string | undefined): void {
    this.execution.allocation_before = allocationBefore;
    this.execution.hooks_commit = hooksCommit;
  }

  decided(decision: Decision): void {
    const { result } = decision;
    Object.assign(this.execution, {
      cost: result?.cost, lower_bound: result?.lowerBound, optimal: result?.optimal,
      target: decision.target, steps: newRecords(decision.translation.steps),
      ...(decision.drift ? { drift: decision.drift } : {}),
    } satisfies Partial<Execution>);
    this.execution.timings_ms = { ...decision.timingsMs } as Record<string, number>;
    this.saveSoon();
  }

  timing(name: string, ms: number): void {
    this.execution.timings_ms[name] = ms;
  }

  finish(status: 'succeeded' | 'failed' | 'cancelled', error: { code: ErrorCode; message: string } | undefined, allocationAfter?: Record<string, VmReport>): void {
    if (allocationAfter) this.execution.allocation_after = allocationAfter;
    finishExecution(this.execution, status, error);
    this.publishExecution();
  }

  /** Merged into the newer execution `by` before its turn came. */
  superseded(by: string): void {
    supersedeExecution(this.execution, by);
    this.publishExecution();
    this.saveSoon();
  }

  /** The older plans merged into this one, which it carries out. */
  carries(ids: string[]): void {
    if (ids.length > 0) this.execution.supersedes = ids;
  }

  /** The merged plan had no solution: this execution applies its own plan alone, after the older ones. */
  appliedAlone(plan: Execution['plan'], why: string): void {
    this.execution.plan = plan;
    this.note(why);
  }

  /** A finished execution the `on_failure: rollback` policy undoes: it points to its rollback. */
  rolledBackBy(id: string): void {
    this.execution.rolled_back_by = id;
  }

  /** Something a reader of the record should know about what the daemon decided. */
  note(text: string): void {
    this.execution.notes = [...(this.execution.notes ?? []), text];
  }

  /** Waits for the record as it is now to be written; a failing store is reported, not thrown. */
  async flush(): Promise<void> {
    if (this.pendingSave) clearTimeout(this.pendingSave);
    this.pendingSave = undefined;
    await this.save();
  }

  actionStarted(ref: ActionRef, where: { vm?: string; containerId?: string }): void {
    const record = this.record(ref);
    startAction(record);
    this.place(ref, where);
    this.actionChanged(ref);
  }

  actionProgress(ref: ActionRef, message: string): void {
    this.record(ref).progress.push(message);
    this.writeAction(ref);
  }

  actionHookRan(ref: ActionRef, result: HookResult): void {
    this.record(ref).hooks.push(result);
    this.writeAction(ref);
  }

  actionFinished(ref: ActionRef, status: 'succeeded' | 'failed', where: { vm?: string; containerId?: string }, error?: ActionError): void {
    this.place(ref, where);
    finishAction(this.record(ref), status, error);
    this.actionChanged(ref);
  }

  actionPassed(ref: ActionRef, status: 'skipped' | 'cancelled'): void {
    passAction(this.record(ref), status);
    this.actionChanged(ref);
  }

  /** Marks an execution a stopped daemon left queued or running as failed (`interrupted`), announces it and saves it. */
  static async interrupted(execution: Execution, store: ExecutionStore, bus: EventBus): Promise<void> {
    const journal = new ExecutionJournal(execution, store, bus);
    for (const { layer, index } of markInterrupted(execution)) journal.publishAction({ layer, index });
    journal.publishExecution();
    await store.save(execution);
  }

  private record(ref: ActionRef) {
    const record = this.execution.steps[ref.layer]?.[ref.index];
    if (!record) throw new Error(`execution ${this.execution.id} has no action at layer ${ref.layer}, index ${ref.index}`);
    return record;
  }

  private place(ref: ActionRef, where: { vm?: string; containerId?: string }): void {
    const record = this.record(ref);
    if (where.vm !== undefined) record.vm = where.vm;
    if (where.containerId !== undefined) record.container_id = where.containerId;
  }

  private actionChanged(ref: ActionRef): void {
    this.publishAction(ref);
    this.writeAction(ref);
  }

  /**
   * A store that writes one action at a time gets each change at once (a small write), so after a
   * crash the record says what ran; another store gets the whole record, throttled.
   */
  private writeAction(ref: ActionRef): void {
    if (!this.store.saveAction) {
      this.saveThrottled();
      return;
    }
    this.store.saveAction(this.execution.id, ref.layer, ref.index, this.record(ref))
      .catch((e) => log.error({ execution_id: this.execution.id, err: errorMessage(e) }, 'saving an action failed'));
  }

  private publishExecution(): void {
    const { id, status, drift } = this.execution;
    const found = drift && isFinished(status) ? { drift: drift.map((d) => d.kind) } : {};
    this.bus.publish({ type: 'execution', id, status, kind: kindOf(this.execution), at: new Date().toISOString(), ...found });
  }

  private publishAction(ref: ActionRef): void {
    const record = this.record(ref);
    const status: ActionStatus = record.status;
    this.bus.publish({
      type: 'action', execution_id: this.execution.id, layer: ref.layer, index: ref.index, status, description: record.description, at: new Date().toISOString(),
    });
  }

  private saveThrottled(): void {
    // Followers see progress; a busy execution writes at most every PROGRESS_SAVE_MS, and a change
    // inside that window is written at its end, so the stored record never lags for long.
    if (this.pendingSave) return;
    const wait = this.lastSave + PROGRESS_SAVE_MS - Date.now();
    if (wait <= 0) {
      this.saveSoon();
      return;
    }
    this.pendingSave = setTimeout(() => this.saveSoon(), wait);
    this.pendingSave.unref();
  }

  private saveSoon(): void {
    if (this.pendingSave) clearTimeout(this.pendingSave);
    this.pendingSave = undefined;
    this.lastSave = Date.now();
    void this.save();
  }

  private save(): Promise<void> {
    return this.store.save(this.execution).catch((e) => log.error({ execution_id: this.execution.id, err: errorMessage(e) }, 'saving the execution failed'));
  }
}

import {
  finishAction, finishExecution, markInterrupted, newExecution, newRecords, passAction, startAction, startExecution, TransitionError,
} from '../../src/domain/execution';

const steps = () => newRecords([
  [{ type: 'delete_container', vm: 'n1', tier: 'a_web', resources: { cpu_cores: 1, mem_units: 1 }, cpuset: [0] }],
  [{ type: 'run_tier_hooks', vm: 'n1', tier: 'a_web', because: ['a_db'] }, { type: 'delete_vm', vm: 'n1' }],
]);

describe('execution transitions', () => {
  it('follow the diagram: queued, running, then one end, with times', () => {
    const e = newExecution('e1', {});
    expect(e).toMatchObject({ kind: 'plan', status: 'queued' });
    startExecution(e, new Date('2026-01-01T00:00:00Z'));
    finishExecution(e, 'failed', { code: 'action_failed', message: 'x' }, new Date('2026-01-01T00:00:01Z'));
    expect(e).toMatchObject({ status: 'failed', started_at: '2026-01-01T00:00:00.000Z', finished_at: '2026-01-01T00:00:01.000Z', error: { code: 'action_failed' } });
  });

  it('refuse moves the diagram lacks', () => {
    const e = newExecution('e1', {}, 'drain');
    expect(() => finishExecution(e, 'succeeded')).toThrow(TransitionError);
    finishExecution(e, 'cancelled');
    expect(e.status).toBe('cancelled');
    expect(() => startExecution(e)).toThrow(/cannot go from cancelled to running/);
    const [[record]] = steps();
    expect(() => finishAction(record, 'succeeded')).toThrow(TransitionError);
    startAction(record);
    expect(() => passAction(record, 'skipped')).toThrow(TransitionError);
    finishAction(record, 'failed', { code: 'engine', message: 'gone' });
    expect(record).toMatchObject({ status: 'failed', error: 'gone', error_code: 'engine' });
    expect(record.duration_ms).toBeGreaterThanOrEqual(0);
  });

  it('mark an interrupted execution failed: running actions failed, pending ones skipped, finished ones kept', () => {
    const e = { ...newExecution('e1', {}), steps: steps() };
    startExecution(e);
    startAction(e.steps[0][0]);
    finishAction(e.steps[0][0], 'succeeded');
    startAction(e.steps[1][0]);
    const changed = markInterrupted(e);
    expect(e.status).toBe('failed');
    expect(e.error?.code).toBe('interrupted');
    expect(e.steps.map((l) => l.map((r) => r.status))).toEqual([['succeeded'], ['failed', 'skipped']]);
    expect(changed.map((c) => [c.layer, c.index])).toEqual([[1, 0], [1, 1]]);
    expect(() => markInterrupted(e)).toThrow(TransitionError);
  });
});

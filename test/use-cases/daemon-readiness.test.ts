import { DaemonReadiness } from '../../src/use-cases/daemon/daemon-readiness';
import { ExecutionRetention } from '../../src/use-cases/execution/execution-retention';
import { Knowledge } from '../../src/use-cases/cluster/knowledge';

describe('daemon readiness', () => {
  const failing = (r: DaemonReadiness) => Object.entries(r.checks()).filter(([, c]) => !c.ok).map(([name]) => name);

  it('is not ready before the executions are recovered and the topology restore has run', () => {
    const restore = { retrying: false };
    const readiness = new DaemonReadiness(new Knowledge(), restore, () => undefined);
    expect(failing(readiness)).toEqual(['executions_recovered', 'topology']);
    readiness.executionsRecovered();
    expect(failing(readiness)).toEqual(['topology']);
    readiness.topologyRestoreAttempted();
    expect(failing(readiness)).toEqual([]);
    expect(readiness.checks().topology.detail).toBe('no topology yet');
  });

  const fine = (): void => undefined;
  const broken = (): void => { throw new Error('disk I/O error'); };
  it.each<[string, { retrying: boolean; lastError?: string }, () => void, string[], RegExp]>([
    ['a restore waiting for its retry', { retrying: true, lastError: "node 'a' does not answer" }, fine, ['topology'], /not restored yet: node 'a' does not answer/],
    ['a database that does not answer', { retrying: false }, broken, ['database'], /disk I\/O error/],
  ])('fails on %s, naming it', (_what, restore, checkDatabase, expected, detail) => {
    const readiness = new DaemonReadiness(new Knowledge(), restore, checkDatabase);
    readiness.executionsRecovered();
    readiness.topologyRestoreAttempted();
    expect(failing(readiness)).toEqual(expected);
    const checks = readiness.checks();
    expect(checks[expected[0]].detail).toMatch(detail);
  });

  it('stops accepting plans and is not ready once shutting down', () => {
    const readiness = new DaemonReadiness(new Knowledge(), { retrying: false }, () => undefined);
    readiness.executionsRecovered();
    readiness.topologyRestoreAttempted();
    expect(readiness.acceptingPlans).toBe(true);
    readiness.shuttingDown();
    expect(readiness.acceptingPlans).toBe(false);
    expect(failing(readiness)).toEqual(['accepting_plans']);
  });
});

describe('execution retention', () => {
  it('prunes finished executions older than the retention days beyond the newest count', async () => {
    const calls: { keep: number; olderThan: Date }[] = [];
    const retention = new ExecutionRetention({ prune: async (policy) => { calls.push(policy); return 3; } }, { days: 30, count: 100 });
    const now = Date.parse('2026-11-29T00:00:00Z');
    expect(await retention.pruneNow(now)).toBe(3);
    expect(calls).toEqual([{ keep: 100, olderThan: new Date('2026-10-30T00:00:00Z') }]);
  });

  it('reports a failing store as nothing pruned, without throwing', async () => {
    const retention = new ExecutionRetention({ prune: async () => { throw new Error('database is locked'); } }, { days: 1, count: 1 });
    await expect(retention.pruneNow()).resolves.toBe(0);
  });
});

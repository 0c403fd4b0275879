import { Execution } from '../../src/domain/execution';
import { loadTopology } from '../../src/use-cases/topology/load-topology';
import { fakeDaemon } from '../support/fake-daemon';
import { shopTopology } from '../support/topologies';

/**
 * The plan queue over fake engines: plans run in the order they arrive whatever the store does, and a
 * burst of plans behind a running one is merged into its newest (`superseded`), unless asked not to.
 */
describe('the plan queue', () => {
  let d: Awaited<ReturnType<typeof fakeDaemon>>;
  const NODE = 'tcp://node1:2375';
  beforeEach(async () => {
    d = await fakeDaemon({ elastic: false });
    await loadTopology(d.knowledge, d.services, shopTopology({ nodes: [{ name: 'node1', docker: NODE }] }));
  });
  afterEach(async () => { await d.close(); });

  const totals = () => Object.fromEntries(Object.entries(d.knowledge.vm('node1')!.containers).map(([tier, c]) => [tier, c.resources]));

  it('runs plans in arrival order even when the store writes the earlier ones last', async () => {
    const store = d.services.executions;
    const save = store.save.bind(store);
    let first = 0;
    // Each new record's first write takes less time than the one before: the first plan's is the slowest.
    const delays = new Map<string, number>();
    store.save = async (execution: Execution) => {
      if (!delays.has(execution.id)) delays.set(execution.id, Math.max(0, 60 - 3 * first++));
      const wait = delays.get(execution.id)!;
      delays.set(execution.id, 0);
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      return save(execution);
    };
    const submitted = Array.from({ length: 20 }, (_, i) => d.executions.submit({ shop_web: { cpu_cores: 1 + (i % 2), mem_units: 1 + (i % 4) } }, 'plan', { coalesce: false }));
    const finished = await Promise.all((await Promise.all(submitted)).map((s) => s.done));
    const ids = finished.map((e) => e.id);
    expect([...ids].sort()).toEqual(ids);
    for (let i = 1; i < finished.length; i++) {
      expect(Date.parse(finished[i].started_at!)).toBeGreaterThanOrEqual(Date.parse(finished[i - 1].finished_at!));
    }
    expect(finished.every((e) => e.status === 'succeeded')).toBe(true);
    expect(totals()).toEqual({ shop_web: { cpu_cores: 2, mem_units: 4 } });
  });

  it('merges a burst behind a running plan into its newest; every waiter gets that outcome', async () => {
    d.engines.engine(NODE).delayMs = 300;
    const running = await d.executions.submit({ shop_db: { cpu_cores: 1, mem_units: 1 } });
    const burst = [
      await d.executions.submit({ shop_web: { cpu_cores: 1, mem_units: 1 } }),
      await d.executions.submit({ shop_web: { cpu_cores: 2, mem_units: 2 } }),
      await d.executions.submit({ shop_db: { cpu_cores: 1, mem_units: 3 } }),
    ];
    const [first, ...outcomes] = await Promise.all([running.done, ...burst.map((b) => b.done)]);
    expect(first).toMatchObject({ id: running.execution.id, status: 'succeeded' });
    const newest = burst[2].execution.id;
    expect(outcomes.map((o) => o.id)).toEqual([newest, newest, newest]);
    const records = await Promise.all(burst.map((b) => d.services.executions.get(b.execution.id)));
    expect(records[0]).toMatchObject({ status: 'superseded', superseded_by: burst[1].execution.id });
    expect(records[1]).toMatchObject({ status: 'superseded', superseded_by: newest });
    expect(records[2]).toMatchObject({
      status: 'succeeded',
      supersedes: [burst[0].execution.id, burst[1].execution.id],
      // Newer values win tier by tier: the same as applying the three in order.
      plan: { shop_web: { cpu_cores: 2, mem_units: 2 }, shop_db: { cpu_cores: 1, mem_units: 3 } },
    });
    expect(records[0]!.steps).toEqual([]);
    expect(totals()).toEqual({ shop_db: { cpu_cores: 1, mem_units: 3 }, shop_web: { cpu_cores: 2, mem_units: 2 } });
    expect(d.events.filter((e) => e.type === 'execution' && e.status === 'superseded').map((e) => e.type === 'execution' && e.id))
      .toEqual([burst[0].execution.id, burst[1].execution.id]);
  });

  it('keeps a plan submitted with coalesce false apart, before or after others', async () => {
    d.engines.engine(NODE).delayMs = 200;
    const running = await d.executions.submit({ shop_db: { cpu_cores: 1, mem_units: 1 } });
    const apart = await d.executions.submit({ shop_web: { cpu_cores: 1, mem_units: 1 } }, 'plan', { coalesce: false });
    const next = await d.executions.submit({ shop_web: { cpu_cores: 2, mem_units: 2 } });
    const last = await d.executions.submit({ shop_web: { cpu_cores: 1, mem_units: 2 } }, 'plan', { coalesce: false });
    const results = await Promise.all([running, apart, next, last].map((s) => s.done));
    expect(results.map((r) => r.status)).toEqual(['succeeded', 'succeeded', 'succeeded', 'succeeded']);
    expect(new Set(results.map((r) => r.id)).size).toBe(4);
    expect(totals()).toMatchObject({ shop_web: { cpu_cores: 1, mem_units: 2 } });
  });

  it('never merges a cancelled plan, nor a plan queued before something else', async () => {
    d.engines.engine(NODE).delayMs = 200;
    const running = await d.executions.submit({ shop_db: { cpu_cores: 1, mem_units: 1 } });
    const cancelled = await d.executions.submit({ shop_web: { cpu_cores: 3, mem_units: 3 } });
    await d.executions.cancel(cancelled.execution.id);
    const after = await d.executions.submit({ shop_web: { cpu_cores: 1, mem_units: 1 } });
    // Another kind of execution queued in between: the plan before it is not merged across it.
    const drain = await d.executions.submitExecution({ kind: 'drain', target: { node1: { shop_db: { cpu_cores: 1, mem_units: 1 }, shop_web: { cpu_cores: 1, mem_units: 1 } } } });
    const later = await d.executions.submit({ shop_web: { cpu_cores: 2, mem_units: 1 } });
    const [, c, a, , l] = await Promise.all([running, cancelled, after, drain, later].map((s) => s.done));
    expect(c).toMatchObject({ id: cancelled.execution.id, status: 'cancelled' });
    expect(a).toMatchObject({ id: after.execution.id, status: 'succeeded', plan: { shop_web: { cpu_cores: 1, mem_units: 1 } } });
    expect(a.supersedes).toBeUndefined();
    expect(l).toMatchObject({ id: later.execution.id, status: 'succeeded', plan: { shop_web: { cpu_cores: 2, mem_units: 1 } } });
  });
});

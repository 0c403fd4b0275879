import { Execution } from '../../src/domain/execution';
import { loadTopology } from '../../src/use-cases/topology/load-topology';
import { fakeDaemon } from '../support/fake-daemon';
import { shopTopology } from '../support/topologies';

/**
 * Coalescing must equal applying the plans in order, also when a plan merged into a newer one
 * cannot be met: the merged plan then has no solution, and the plans are applied one by one.
 * Over fake engines: one node of 2 cores and 8 memory units, tiers `web` and `db`.
 */
describe('coalescing equals applying the plans in order', () => {
  const NODE = 'tcp://node1:2375';
  const topology = shopTopology({
    nodes: [{ name: 'node1', docker: NODE }],
    infrastructure: { cpu_cores: 2, mem_units: 8 },
    tiers: { web: { docker_image: 'busybox' }, db: { docker_image: 'busybox' } },
  });

  async function daemon() {
    const d = await fakeDaemon({ elastic: false });
    await loadTopology(d.knowledge, d.services, topology);
    return d;
  }
  const totalsOf = (d: Awaited<ReturnType<typeof daemon>>) =>
    Object.fromEntries(Object.entries(d.knowledge.vm('node1')!.containers).map(([tier, c]) => [tier, c.resources]).sort());

  it('a plan that fails alone does not hold back the newer plan merged with it', async () => {
    const d = await daemon();
    try {
      const start = await d.executions.submit({ shop_web: { cpu_cores: 1, mem_units: 2 }, shop_db: { cpu_cores: 1, mem_units: 2 } });
      expect((await start.done).status).toBe('succeeded');
      d.engines.engine(NODE).delayMs = 200;
      const running = await d.executions.submit({ shop_web: { cpu_cores: 1, mem_units: 4 } });
      // Alone it fails: 3 cores on a 2-core node.
      const doomed = await d.executions.submit({ shop_db: { cpu_cores: 2, mem_units: 2 } });
      const last = await d.executions.submit({ shop_web: { cpu_cores: 1, mem_units: 2 } });
      const [r, x, l] = await Promise.all([running.done, doomed.done, last.done]);
      expect(r.status).toBe('succeeded');
      // Each answered with its own outcome, as when applied one by one.
      expect(x).toMatchObject({ id: doomed.execution.id, status: 'failed', error: { code: 'no_solution' } });
      expect(l).toMatchObject({ id: last.execution.id, status: 'succeeded', plan: { shop_web: { cpu_cores: 1, mem_units: 2 } } });
      expect(l.supersedes).toBeUndefined();
      expect(l.notes?.join('\n')).toMatch(/merging would not equal applying the plans in order \(the merged plan: No solution found.*applied one by one in arrival order instead: .*failed \(no_solution\), then this plan alone/);
      const record = await d.services.executions.get(doomed.execution.id);
      expect(record).toMatchObject({ status: 'failed', plan: { shop_db: { cpu_cores: 2, mem_units: 2 } } });
      expect(record!.notes?.join('\n')).toMatch(new RegExp(`merged into ${last.execution.id}`));
      expect(totalsOf(d)).toEqual({ shop_db: { cpu_cores: 1, mem_units: 2 }, shop_web: { cpu_cores: 1, mem_units: 2 } });
      expect(d.events.some((e) => e.type === 'execution' && e.status === 'superseded')).toBe(false);
    } finally {
      await d.close();
    }
  });

  it('a cancel of a plan merged into a newer one names the newer one', async () => {
    const d = await daemon();
    try {
      d.engines.engine(NODE).delayMs = 200;
      const running = await d.executions.submit({ shop_web: { cpu_cores: 1, mem_units: 1 } });
      const older = await d.executions.submit({ shop_web: { cpu_cores: 1, mem_units: 2 } });
      const newer = await d.executions.submit({ shop_web: { cpu_cores: 1, mem_units: 3 } });
      await expect(d.executions.cancel(older.execution.id)).rejects.toThrow(new RegExp(`merged into '${newer.execution.id}'`));
      await Promise.all([running.done, older.done, newer.done]);
      expect(await d.services.executions.get(older.execution.id)).toMatchObject({ status: 'superseded', superseded_by: newer.execution.id });
    } finally {
      await d.close();
    }
  });

  /** A small deterministic generator, so a failing sequence can be replayed from its seed. */
  function random(seed: number) {
    let state = seed >>> 0;
    return () => {
      state = (state * 1664525 + 1013904223) >>> 0;
      return state / 2 ** 32;
    };
  }

  type Plan = Record<string, { cpu_cores: number; mem_units: number }>;
  function sequence(seed: number): Plan[] {
    const next = random(seed);
    const pick = (n: number) => Math.floor(next() * n);
    return Array.from({ length: 2 + pick(4) }, () => {
      const plan: Plan = {};
      // Cores 0-2 per tier on a 2-core node and memory 1-6 of 8 units (or {0, 0}: remove the tier), as
      // the API takes them: some plans fit, some cannot.
      for (const tier of ['shop_web', 'shop_db']) {
        if (next() >= 0.7) continue;
        const cores = pick(3);
        plan[tier] = { cpu_cores: cores, mem_units: cores === 0 ? 0 : 1 + pick(6) };
      }
      return Object.keys(plan).length > 0 ? plan : { shop_web: { cpu_cores: 1, mem_units: 1 } };
    });
  }

  async function apply(plans: Plan[], coalesce: boolean): Promise<{ totals: unknown; statuses: string[] }> {
    const d = await daemon();
    try {
      expect((await (await d.executions.submit({ shop_web: { cpu_cores: 1, mem_units: 1 } })).done).status).toBe('succeeded');
      // A slow plan first, so that the rest queue behind it (and merge, when coalescing).
      d.engines.engine(NODE).delayMs = 50;
      const first = await d.executions.submit({ shop_web: { cpu_cores: 1, mem_units: 2 } }, 'plan', { coalesce: false });
      const submitted: { done: Promise<Execution> }[] = [];
      for (const plan of plans) submitted.push(await d.executions.submit(plan, 'plan', { coalesce }));
      await first.done;
      const outcomes = await Promise.all(submitted.map((s) => s.done));
      return { totals: totalsOf(d), statuses: outcomes.map((o) => o.status) };
    } finally {
      await d.close();
    }
  }

  it.each(Array.from({ length: 40 }, (_, i) => i + 1))('seed %i: the same tiers, cores and memory with and without coalescing', async (seed) => {
    const plans = sequence(seed);
    const inOrder = await apply(plans, false);
    const coalesced = await apply(plans, true);
    expect(coalesced.totals).toEqual(inOrder.totals);
    // The newest plan's outcome is the same; an older merged plan is answered with the outcome of the
    // execution that carried it out (SubmitOptions.coalesce), or its own when they were applied in order.
    expect(coalesced.statuses[plans.length - 1]).toBe(inOrder.statuses[plans.length - 1]);
  });
});

import { newExecution, startExecution } from '../../src/domain/execution';
import { loadTopology } from '../../src/use-cases/topology/load-topology';
import { fakeDaemon } from '../support/fake-daemon';
import { shopTopology } from '../support/topologies';

/** The execution lifecycle over fake engines: kinds, events, interrupted records. */
describe('PlanExecutions', () => {
  let d: Awaited<ReturnType<typeof fakeDaemon>>;
  beforeEach(async () => {
    d = await fakeDaemon({ elastic: false });
    await loadTopology(d.knowledge, d.services, shopTopology({ nodes: [{ name: 'node1', docker: 'tcp://node1:2375' }, { name: 'node2', docker: 'tcp://node2:2375' }] }));
  });
  afterEach(async () => { await d.close(); });

  it('carries out a plan and publishes each transition of the execution and its actions, once, in order', async () => {
    const { execution, done } = await d.executions.submit({ shop_db: { cpu_cores: 1, mem_units: 1 } });
    const finished = await done;
    expect(finished).toMatchObject({ id: execution.id, kind: 'plan', status: 'succeeded' });
    const mine = d.events.filter((e) => (e.type === 'execution' ? e.id : e.type === 'action' ? e.execution_id : '') === execution.id);
    expect(mine.map((e) => `${e.type} ${e.type === 'node' ? '' : e.status}`)).toEqual([
      'execution queued', 'execution running', 'action running', 'action succeeded', 'execution succeeded',
    ]);
    expect(mine.every((e) => e.type !== 'execution' || e.kind === 'plan')).toBe(true);
    expect(await d.services.executions.get(execution.id)).toMatchObject({ status: 'succeeded', kind: 'plan' });
  });

  it('carries out an execution of another kind towards a given placement, without solving', async () => {
    await (await d.executions.submit({ shop_web: { cpu_cores: 2, mem_units: 2 } })).done;
    const where = Object.keys(d.knowledge.requireDeployment().cluster).find((vm) => d.knowledge.vm(vm)!.containers.shop_web)!;
    const other = where === 'node1' ? 'node2' : 'node1';
    // A drain: the same container, on the other node.
    const { done } = await d.executions.submitExecution({ kind: 'drain', target: { [other]: { shop_web: { cpu_cores: 2, mem_units: 2 } } } });
    const drained = await done;
    expect(drained).toMatchObject({ kind: 'drain', status: 'succeeded', plan: { shop_web: { cpu_cores: 2, mem_units: 2 } } });
    expect(drained.cost).toBeUndefined();
    expect(d.knowledge.vm(where)!.containers).toEqual({});
    expect(Object.keys(d.knowledge.vm(other)!.containers)).toEqual(['shop_web']);
    expect(d.events.filter((e) => e.type === 'execution' && e.id === drained.id).map((e) => e.type === 'execution' && e.kind)).toEqual(['drain', 'drain', 'drain']);
  });

  it('solves a plan under the constraints a daemon-started execution adds', async () => {
    const plan = { shop_web: { cpu_cores: 6, mem_units: 2 } };
    const bounded = await (await d.executions.submitExecution({ kind: 'reconcile', plan, constraints: { maxVms: 1 } })).done;
    expect(bounded).toMatchObject({ kind: 'reconcile', status: 'failed', error: { code: 'no_solution' } });
    const free = await (await d.executions.submitExecution({ kind: 'reconcile', plan })).done;
    expect(free).toMatchObject({ kind: 'reconcile', status: 'succeeded' });
  });

  it('records a failed action with the code of what failed and answers the execution with action_failed', async () => {
    const engine = d.engines.engine('tcp://node1:2375');
    const failing = new (await import('../../src/domain/errors')).InfrastructureError('engine call timed out', 'timeout');
    engine.failNext('create', failing);
    d.engines.engine('tcp://node2:2375').failNext('create', failing);
    const finished = await (await d.executions.submit({ shop_db: { cpu_cores: 1, mem_units: 1 } })).done;
    expect(finished).toMatchObject({ status: 'failed', error: { code: 'action_failed' } });
    expect(finished.steps[0][0]).toMatchObject({ status: 'failed', error_code: 'timeout' });
  });

  it('marks executions a stopped daemon left queued or running as interrupted, and says so on the bus', async () => {
    const left = newExecution('20260101000000000000-aaaaaa', {});
    startExecution(left);
    await d.services.executions.save(left);
    expect(await d.executions.recoverInterrupted()).toBe(1);
    expect(await d.services.executions.get(left.id)).toMatchObject({ status: 'failed', error: { code: 'interrupted' } });
    expect(d.events).toContainEqual(expect.objectContaining({ type: 'execution', id: left.id, status: 'failed' }));
  });

  it('carries on the plans a stopped daemon left queued, in their order and under their own records', async () => {
    const running = newExecution('20260101000000000000-aaaaaa', { shop_db: { cpu_cores: 1, mem_units: 1 } });
    startExecution(running);
    const first = newExecution('20260101000000001000-bbbbbb', { shop_web: { cpu_cores: 1, mem_units: 1 } }, 'plan', new Date('2026-01-01T00:00:01Z'));
    const second = newExecution('20260101000000002000-cccccc', { shop_web: { cpu_cores: 2, mem_units: 1 } }, 'plan', new Date('2026-01-01T00:00:02Z'));
    const drain = newExecution('20260101000000003000-dddddd', {}, 'drain', new Date('2026-01-01T00:00:03Z'));
    for (const e of [second, running, drain, first]) await d.services.executions.save(e);

    // The running one and the queued drain are interrupted; the queued plans wait for the restore.
    expect(await d.executions.recoverInterrupted()).toBe(2);
    expect(await d.services.executions.get(drain.id)).toMatchObject({ status: 'failed', error: { code: 'interrupted' } });
    expect(await d.services.executions.get(first.id)).toMatchObject({ status: 'queued' });
    expect(d.executions.resumeQueued()).toBe(2);
    const finished = async (id: string) => {
      for (;;) {
        const e = (await d.services.executions.get(id))!;
        if (e.status !== 'queued' && e.status !== 'running') return e;
        await new Promise((r) => setTimeout(r, 20));
      }
    };
    expect(await finished(first.id)).toMatchObject({ status: 'succeeded', notes: [expect.stringContaining('carried on')] });
    const last = await finished(second.id);
    expect(last).toMatchObject({ status: 'succeeded' });
    // In their order: the second ran after the first, and what runs is the second's.
    expect(Date.parse(last.started_at!)).toBeGreaterThanOrEqual(Date.parse((await d.services.executions.get(first.id))!.finished_at!));
    expect(d.knowledge.requireDeployment().topology.tiers.has('shop_web')).toBe(true);
    const web = Object.values(d.knowledge.requireDeployment().cluster).flatMap((vm) => Object.entries(vm.containers)).filter(([tier]) => tier === 'shop_web');
    expect(web.reduce((n, [, c]) => n + c.resources.cpu_cores, 0)).toBe(2);
    expect(d.executions.resumeQueued()).toBe(0);
  });
});

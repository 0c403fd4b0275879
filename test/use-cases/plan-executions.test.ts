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
});

import { tierTotals } from '../../src/domain/allocation';
import { placementOfCluster } from '../../src/domain/cluster';
import { loadTopology } from '../../src/use-cases/topology/load-topology';
import { NodeAdmin } from '../../src/use-cases/nodes/node-admin';
import { fakeDaemon } from '../support/fake-daemon';
import { shopTopology } from '../support/topologies';

/** A drain is an execution like any other: queued, recorded with kind `drain`, and it empties the node. */
describe('draining a node through the execution queue', () => {
  let d: Awaited<ReturnType<typeof fakeDaemon>>;
  const topology = shopTopology({ nodes: [{ name: 'node1', docker: 'tcp://node1:2375' }, { name: 'node2', docker: 'tcp://node2:2375' }] });
  beforeEach(async () => {
    d = await fakeDaemon({ elastic: false });
    await loadTopology(d.knowledge, d.services, topology);
  });
  afterEach(async () => { await d.close(); });

  it('moves every container off the node, keeps it cordoned, and tells the node feed', async () => {
    const plan = { shop_db: { cpu_cores: 2, mem_units: 2 }, shop_web: { cpu_cores: 2, mem_units: 2 } };
    expect((await (await d.executions.submit(plan)).done).status).toBe('succeeded');
    const busy = Object.keys(d.knowledge.requireDeployment().cluster).find((vm) => Object.keys(d.knowledge.vm(vm)!.containers).length > 0)!;

    const admin = new NodeAdmin(d.knowledge, d.services, d.executions.intake, d.bus);
    const { execution, done } = await admin.drain(busy);
    expect(execution.kind).toBe('drain');
    const finished = await done;
    expect(finished).toMatchObject({ id: execution.id, kind: 'drain', status: 'succeeded' });
    expect(await d.services.executions.get(execution.id)).toMatchObject({ kind: 'drain', status: 'succeeded' });

    expect(d.knowledge.vm(busy)!.containers).toEqual({});
    expect(tierTotals(placementOfCluster(d.knowledge.requireDeployment().cluster))).toEqual(plan);
    expect(d.knowledge.nodes.cordoned()).toEqual([busy]);
    expect(d.events).toContainEqual(expect.objectContaining({ type: 'node', name: busy, cordoned: true }));
  });
});

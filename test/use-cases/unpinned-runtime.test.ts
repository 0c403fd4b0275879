import { loadTopology } from '../../src/use-cases/topology/load-topology';
import { Reconciler } from '../../src/use-cases/nodes/reconcile';
import { fakeDaemon } from '../support/fake-daemon';
import { shopTopology } from '../support/topologies';

/** A container runtime that cannot pin cores (it reports none) is not repaired or moved for its cores forever. */
describe('engines whose runtime does not pin cores', () => {
  let d: Awaited<ReturnType<typeof fakeDaemon>>;
  const topology = shopTopology({ nodes: [{ name: 'node1', docker: 'tcp://node1:2375' }] });
  beforeEach(async () => {
    d = await fakeDaemon({ elastic: false });
    d.engines.engine('tcp://node1:2375').pinsCores = false;
    await loadTopology(d.knowledge, d.services, topology);
  });
  afterEach(async () => { await d.close(); });

  it('find no drift in cores, and a daemon that reads them again moves nothing for the same plan', async () => {
    const plan = { shop_db: { cpu_cores: 2, mem_units: 2 } };
    expect((await (await d.executions.submit(plan)).done).status).toBe('succeeded');
    const reconciler = new Reconciler(d.knowledge, d.services, d.queue, { submit: async () => { throw new Error('no repair was expected'); } });
    expect(await reconciler.findDrift()).toEqual([]);

    // As after a restart: the cluster read from the engine, whose containers report no cores.
    await loadTopology(d.knowledge, d.services, topology);
    expect(d.knowledge.vm('node1')!.containers.shop_db.cpuset).toEqual([]);
    const again = await (await d.executions.submit(plan)).done;
    expect(again).toMatchObject({ status: 'succeeded', steps: [] });
    expect(await reconciler.findDrift()).toEqual([]);

    // Memory is still the runtime's to keep: a change of it is drift.
    const engine = d.engines.engine('tcp://node1:2375');
    const [container] = engine.containers.values();
    container.memoryBytes /= 2;
    expect((await reconciler.findDrift()).map((drift) => drift.kind)).toEqual(['resized']);
  });
});

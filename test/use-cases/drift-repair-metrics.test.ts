import { Metrics } from '../../src/drivers/prometheus/metrics';
import { loadTopology } from '../../src/use-cases/topology/load-topology';
import { Reconciler } from '../../src/use-cases/nodes/reconcile';
import { fakeDaemon } from '../support/fake-daemon';
import { shopTopology } from '../support/topologies';

/** Drift repairs are submitted like any execution, and counted in the metrics from what the bus tells. */
describe('drift repair through the execution queue', () => {
  let d: Awaited<ReturnType<typeof fakeDaemon>>;
  const topology = shopTopology({ nodes: [{ name: 'node1', docker: 'tcp://node1:2375' }] });
  beforeEach(async () => {
    d = await fakeDaemon({ elastic: false });
    await loadTopology(d.knowledge, d.services, topology);
  });
  afterEach(async () => { await d.close(); });

  it('records a reconcile execution that sets a changed memory limit back, and counts it by kind', async () => {
    const metrics = new Metrics();
    metrics.follow(d.bus);
    expect((await (await d.executions.submit({ shop_db: { cpu_cores: 2, mem_units: 2 } })).done).status).toBe('succeeded');
    const [container] = d.engines.engine('tcp://node1:2375').containers.values();
    const memory = container.memoryBytes;
    container.memoryBytes /= 2;

    const reconciler = new Reconciler(d.knowledge, d.services, d.queue, d.executions.intake);
    const repaired = await reconciler.pass();
    expect(repaired).toMatchObject({ kind: 'reconcile', status: 'succeeded', drift: [expect.objectContaining({ kind: 'resized' })] });
    expect(await d.services.executions.get(repaired!.id)).toMatchObject({ kind: 'reconcile', status: 'succeeded' });
    expect(container.memoryBytes).toBe(memory);
    expect(await metrics.registry.getSingleMetricAsString('ecoware_drift_repairs_total')).toContain('ecoware_drift_repairs_total{kind="resized"} 1');

    // Nothing differs any more: the next pass records nothing and counts nothing more.
    expect(await reconciler.pass()).toBeUndefined();
    expect(await metrics.registry.getSingleMetricAsString('ecoware_drift_repairs_total')).toContain('ecoware_drift_repairs_total{kind="resized"} 1');
  });
});

import { loadTopology } from '../../src/use-cases/topology/load-topology';
import { fakeDaemon } from '../support/fake-daemon';

/** Loading a topology restarts the loops that follow it only when its infrastructure changes. */
describe('loadTopology and the loops', () => {
  let d: Awaited<ReturnType<typeof fakeDaemon>>;
  const follows: string[] = [];
  const nodes = [{ name: 'node1', docker: 'tcp://node1:2375' }];
  const infrastructure = { cloud_driver: { type: 'static', nodes }, cpu_cores: 4, mem_units: 8 };

  beforeEach(async () => {
    d = await fakeDaemon({ elastic: false });
    follows.length = 0;
    d.services.hookSchedule = { follow: () => follows.push('hooks'), stop: () => undefined };
    d.services.nodeLoops = { follow: () => follows.push('nodes'), stop: () => undefined };
  });
  afterEach(async () => { await d.close(); });

  it('starts them for the first topology and for a new infrastructure, and leaves them running when only apps change', async () => {
    await loadTopology(d.knowledge, d.services, { infrastructure, apps: [] });
    expect(follows).toEqual(['hooks', 'nodes']);
    await loadTopology(d.knowledge, d.services, { infrastructure, apps: [{ name: 'a', tiers: { t: { docker_image: 'busybox' } } }] });
    expect(follows).toEqual(['hooks', 'nodes']);
    await loadTopology(d.knowledge, d.services, { infrastructure: { ...infrastructure, node_health_interval_s: 5 }, apps: [] });
    expect(follows).toEqual(['hooks', 'nodes', 'hooks', 'nodes']);
  });
});

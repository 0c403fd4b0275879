import { StaticCloudConfig } from '../../src/domain/topology';
import { parseTopology } from '../../src/schema/topology-file';
import { runtimesByEngine } from '../../src/drivers/runtime-drivers';
import { loadTopology } from '../../src/use-cases/topology/load-topology';
import { observeCluster } from '../../src/use-cases/cluster/observe-cluster';
import { fakeDaemon } from '../support/fake-daemon';
import { shopTopology } from '../support/topologies';

const DEFAULTS = { localDocker: 'unix:///var/run/docker.sock' };

/** What runs on a VM is read one way, and the cluster changes through verbs named for what happened. */
describe('observing the engines', () => {
  let d: Awaited<ReturnType<typeof fakeDaemon>>;
  afterEach(async () => { await d?.close(); });

  it("counts a container on an engine two nodes share only for the VM its label names", async () => {
    d = await fakeDaemon({ elastic: false });
    await loadTopology(d.knowledge, d.services, shopTopology({ nodes: [{ name: 'node1', docker: 'tcp://shared:2375' }, { name: 'node2', docker: 'tcp://shared:2375' }] }));
    const placed = await (await d.executions.submit({ shop_db: { cpu_cores: 1, mem_units: 1 } })).done;
    expect(placed.status).toBe('succeeded');
    const { cloud, topology } = d.knowledge.requireDeployment();
    const where = Object.keys(d.knowledge.requireDeployment().cluster).filter((vm) => d.knowledge.vm(vm)!.containers.shop_db);
    expect(where).toHaveLength(1);

    const observed = await observeCluster(cloud, d.services.runtimeFor, topology.infrastructure.memUnitMb, new Set(topology.tiers.keys()));
    expect(Object.entries(observed).filter(([, s]) => s.containers.shop_db).map(([vm]) => vm)).toEqual(where);
  });

  it('a lost node stays, running nothing, and is marked replaced; a gone VM leaves; joined VMs come in empty', async () => {
    d = await fakeDaemon({ elastic: true });
    await loadTopology(d.knowledge, d.services, shopTopology({ elastic: true }));
    expect((await (await d.executions.submit({ shop_db: { cpu_cores: 4, mem_units: 4 }, shop_web: { cpu_cores: 4, mem_units: 4 } })).done).status).toBe('succeeded');
    const [first, second] = Object.keys(d.knowledge.requireDeployment().cluster);

    d.knowledge.vmLost(first, { gone: false });
    expect(d.knowledge.vm(first)!.containers).toEqual({});
    expect(d.knowledge.nodes.takeReplaced(first)).toBe(true);

    d.knowledge.vmLost(second, { gone: true });
    expect(d.knowledge.vm(second)).toBeUndefined();

    const [joined] = await d.cloud.createVms(1);
    d.knowledge.vmsJoined([joined]);
    expect(d.knowledge.vm(joined.name)).toEqual({ vm: joined, containers: {} });
  });
});

describe('a node names its engine', () => {
  const topologyWith = (node: Record<string, unknown>) => ({
    infrastructure: { cpu_cores: 1, mem_units: 1, cloud_driver: { type: 'static', nodes: [{ name: 'n1', ...node }] } },
    apps: [],
  });
  const nodeOf = (node: Record<string, unknown>) => (parseTopology(topologyWith(node), DEFAULTS).infrastructure.cloud as StaticCloudConfig).nodes[0];

  it('as engine: {kind, url, cert_path}', () => {
    expect(nodeOf({ engine: { kind: 'docker', url: 'tcp://10.0.0.5:2376', cert_path: '/certs' } }).engine)
      .toEqual({ kind: 'docker', url: 'tcp://10.0.0.5:2376', certPath: '/certs' });
  });

  it('and refuses an unknown kind, a URL its kind cannot reach, or both forms at once, naming the field', () => {
    const fieldOf = (node: Record<string, unknown>) => { try { nodeOf(node); return undefined; } catch (e) { return (e as { field?: string }).field; } };
    expect(fieldOf({ engine: { kind: 'rkt', url: 'tcp://a:1' } })).toBe('infrastructure.cloud_driver.nodes[0].engine.kind');
    expect(fieldOf({ engine: { kind: 'docker', url: 'http//x' } })).toBe('infrastructure.cloud_driver.nodes[0].engine.url');
    expect(fieldOf({ engine: { kind: 'docker', url: 'tcp://a:1' }, docker: 'tcp://a:1' })).toBe('infrastructure.cloud_driver.nodes[0].docker');
  });

  it('and the runtime of a VM is made by the driver of its kind, one client per endpoint', () => {
    const runtimeFor = runtimesByEngine();
    const a = runtimeFor({ engine: { kind: 'docker', url: 'tcp://10.0.0.5:2375' } });
    expect(runtimeFor({ engine: { kind: 'docker', url: 'tcp://10.0.0.5:2375' } })).toBe(a);
    expect(runtimeFor({ engine: { kind: 'docker', url: 'tcp://10.0.0.6:2375' } })).not.toBe(a);
    expect(a.endpoint).toEqual({ kind: 'docker', url: 'tcp://10.0.0.5:2375' });
    expect(() => runtimeFor({ engine: { kind: 'rkt' as 'docker', url: 'x' } })).toThrow(/kind 'rkt'/);
  });
});

import { tierTotals } from '../../src/domain/allocation';
import { placementOfCluster } from '../../src/domain/cluster';
import { watchCloud } from '../../src/use-cases/cluster/cloud-watch';
import { healLostNode } from '../../src/use-cases/nodes/heal-nodes';
import { loadTopology } from '../../src/use-cases/topology/load-topology';
import { fakeDaemon } from '../support/fake-daemon';
import { shopTopology } from '../support/topologies';

/** An elastic cloud's VMs against the cluster: instances that left are healed elsewhere, the group's own additions join. */
describe('cloud watch and healing a VM that left the cloud', () => {
  let d: Awaited<ReturnType<typeof fakeDaemon>>;

  beforeEach(async () => {
    d = await fakeDaemon({ elastic: true });
    await loadTopology(d.knowledge, d.services, shopTopology({ elastic: true }));
    // db fills one VM and web another.
    const placed = await (await d.executions.submit({ shop_db: { cpu_cores: 4, mem_units: 4 }, shop_web: { cpu_cores: 4, mem_units: 4 } })).done;
    expect(placed.status).toBe('succeeded');
  });
  afterEach(async () => { await d.close(); });

  const vmOf = (tier: string) => Object.keys(d.knowledge.requireDeployment().cluster).find((vm) => d.knowledge.vm(vm)!.containers[tier])!;

  it('reports a VM the cloud no longer lists; healing it drops it and places its tiers on the others as a heal', async () => {
    const victim = vmOf('shop_db');
    d.cloud.vms.splice(d.cloud.vms.findIndex((vm) => vm.name === victim), 1);

    expect(await watchCloud(d.knowledge, d.queue)).toEqual({ gone: [victim], joined: [] });
    // Reporting changes nothing by itself.
    expect(d.knowledge.vm(victim)).toBeDefined();

    const healed = await healLostNode(d.knowledge, d.queue, d.executions.intake, victim, { gone: true });
    expect(healed).toMatchObject({ kind: 'heal', status: 'succeeded', plan: { shop_db: { cpu_cores: 4, mem_units: 4 } } });
    const cluster = d.knowledge.requireDeployment().cluster;
    expect(cluster[victim]).toBeUndefined();
    expect(tierTotals(placementOfCluster(cluster))).toEqual({ shop_db: { cpu_cores: 4, mem_units: 4 }, shop_web: { cpu_cores: 4, mem_units: 4 } });
    expect(d.cloud.createCalls.at(-1)).toBe(1);
    expect(await watchCloud(d.knowledge, d.queue)).toEqual({ gone: [], joined: [] });
  });

  it('drops a gone VM that ran nothing, or any gone VM without self_heal, without an execution', async () => {
    await loadTopology(d.knowledge, d.services, shopTopology({ elastic: true, infrastructure: { self_heal: false } }));
    const victim = vmOf('shop_web');
    d.cloud.vms.splice(d.cloud.vms.findIndex((vm) => vm.name === victim), 1);
    expect(await healLostNode(d.knowledge, d.queue, d.executions.intake, victim, { gone: true })).toBeUndefined();
    expect(d.knowledge.vm(victim)).toBeUndefined();
    expect(Object.keys(d.knowledge.requireDeployment().cluster)).toEqual([vmOf('shop_db')]);
  });

  it('adds a VM the cloud launched by itself to the cluster, empty', async () => {
    const added = { name: 'i-replacement', instanceId: 'i-replacement', address: '10.0.9.9', capacity: { cpu_cores: 4, mem_units: 8 }, engine: { kind: 'docker' as const, url: 'fake://i-replacement' } };
    d.cloud.vms.push(added);
    expect(await watchCloud(d.knowledge, d.queue)).toEqual({ gone: [], joined: ['i-replacement'] });
    expect(d.knowledge.vm('i-replacement')).toEqual({ vm: added, containers: {} });
  });

  it('changes nothing when the cloud does not answer', async () => {
    const before = structuredClone(d.knowledge.requireDeployment().cluster);
    d.cloud.vms.splice(0, d.cloud.vms.length);
    d.cloud.failNext('listVms', new Error('Throttling: Rate exceeded'));
    expect(await watchCloud(d.knowledge, d.queue)).toEqual({ gone: [], joined: [] });
    expect(d.knowledge.requireDeployment().cluster).toEqual(before);
  });
});

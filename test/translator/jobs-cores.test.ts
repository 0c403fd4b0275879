import { Action } from '../../src/domain/action';
import { Cluster } from '../../src/domain/cluster';
import { parseTopology } from '../../src/schema/topology-file';
import { planCpusets } from '../../src/translator/plan-cpusets';
import { translate } from '../../src/translator/translate';

const topology = parseTopology({
  infrastructure: { cpu_cores: 4, mem_units: 8, cloud_driver: { type: 'static', nodes: [{ name: 'vm1', docker: 'tcp://127.0.0.1:2375' }] } },
  apps: [{ name: 'shop', tiers: { db: { max_node: 1, docker_image: 'img' }, web: { docker_image: 'img', depends_on: ['db'] } } }],
});
const vmSize = { cpu_cores: 4, mem_units: 8 };
const vm = (name: string, containers: Record<string, [number, number, number[]]> = {}) => ({
  vm: { name, capacity: vmSize, engine: { kind: 'docker' as const, url: 'tcp://127.0.0.1:2375' }, address: '127.0.0.1' },
  containers: Object.fromEntries(Object.entries(containers).map(([tier, [c, m, cpuset]]) => [
    tier, { id: `${name}-${tier}`, tier, resources: { cpu_cores: c, mem_units: m }, cpuset, state: 'running' },
  ])),
});
const cpusetOf = (actions: Action[], tier: string) => {
  const a = actions.find((x) => 'tier' in x && x.tier === tier);
  return a && 'cpuset' in a ? a.cpuset : undefined;
};

/** The cores running jobs are pinned to are never a tier's, and a VM they run on is never released. */
describe('the translator beside running jobs', () => {
  it.each([
    ['a new container', [], 2, [2, 3], [0, 1]],
    ['a growing container', [0], 2, [1, 2], [0, 3]],
    ['a container on a job\'s core', [0, 1], 2, [1], [0, 2]],
    ['a shrinking container', [0, 1, 2], 1, [0], [1]],
  ] as const)('planCpusets gives %s no occupied core', (_case, current, wanted, occupied, expected) => {
    const plan = planCpusets(4, [{ tier: 't', current: [...current], wanted, layer: 1 }], occupied);
    expect(plan.get('t')!.cpuset).toEqual(expected);
  });

  it('planCpusets refuses what the free cores cannot hold', () => {
    expect(() => planCpusets(4, [{ tier: 't', current: [], wanted: 3, layer: 1 }], [0, 1])).toThrow(/cannot place 3 cores for 't' on a 4-core VM \(2 held by jobs\)/);
  });

  it('keeps tiers off the jobs\' cores of their VM only', () => {
    const current: Cluster = { vm1: vm('vm1'), vm2: vm('vm2') };
    const target = { vm1: { shop_web: { cpu_cores: 2, mem_units: 1 } }, vm2: { shop_db: { cpu_cores: 2, mem_units: 1 } } };
    const { steps } = translate({ topology, current, target, newVms: [], vmSize, releaseIdleVms: false, occupiedCores: { vm1: [0, 1] } });
    expect(cpusetOf(steps.flat(), 'shop_web')).toEqual([2, 3]);
    expect(cpusetOf(steps.flat(), 'shop_db')).toEqual([0, 1]);
  });

  it('releases an idle VM of an elastic cloud, but not one jobs run on', () => {
    const current: Cluster = { vm1: vm('vm1', { shop_web: [1, 1, [0]] }), vm2: vm('vm2'), vm3: vm('vm3', { shop_db: [1, 1, [0]] }) };
    const target = { vm1: { shop_web: { cpu_cores: 1, mem_units: 1 } } };
    const released = (heldVms?: Set<string>) => translate({ topology, current, target, newVms: [], vmSize, releaseIdleVms: true, heldVms })
      .steps.flat().filter((a) => a.type === 'delete_vm').map((a) => a.vm);
    expect(released()).toEqual(['vm2', 'vm3']);
    expect(released(new Set(['vm2', 'vm3']))).toEqual([]);
    expect(released(new Set(['vm2']))).toEqual(['vm3']);
  });
});

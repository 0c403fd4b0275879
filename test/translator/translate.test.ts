import { Action } from '../../src/domain/action';
import { Placement } from '../../src/domain/allocation';
import { Cluster } from '../../src/domain/cluster';
import { parseTopology } from '../../src/schema/topology-file';
import { translate } from '../../src/translator/translate';

const topology = parseTopology({
  infrastructure: { cpu_cores: 4, mem_units: 8, cloud_driver: { type: 'static', nodes: [{ name: 'vm1', docker: 'tcp://127.0.0.1:2375' }] } },
  apps: [{
    name: 'rubis',
    tiers: {
      loadbalancer: { max_node: 1, docker_image: 'img', depends_on: ['app_server'], on_dependency_scale: 'reload.sh' },
      app_server: { docker_image: 'img', depends_on: ['db'], on_dependency_scale: 'test.sh' },
      db: { max_node: 1, docker_image: 'img' },
    },
  }],
});

const vmSize = { cpu_cores: 4, mem_units: 8 };
const vm = (name: string, containers: Record<string, [number, number, number[]]> = {}) => ({
  vm: { name, capacity: vmSize, engine: { kind: 'docker' as const, url: 'tcp://127.0.0.1:2375' }, address: '127.0.0.1' },
  containers: Object.fromEntries(Object.entries(containers).map(([tier, [c, m, cpuset]]) => [
    tier, { id: `${name}-${tier}`, tier, resources: { cpu_cores: c, mem_units: m }, cpuset, state: 'running' },
  ])),
});

function run(current: Cluster, target: Placement, newVms: string[] = [], releaseIdleVms = false) {
  return translate({ topology, current, target, newVms, vmSize, releaseIdleVms });
}

describe('translate', () => {
  it('on a runtime that does not pin cores, updates no container for its cores alone', () => {
    // Such a runtime reports no cores; a pinning one would have its container pinned again.
    const current = { vm1: vm('vm1', { rubis_db: [1, 2, []] }) };
    const target = { vm1: { rubis_db: { cpu_cores: 1, mem_units: 2 } } };
    expect(run(current, target).actions.flat()).toEqual(["update container 'rubis_db' on vm 'vm1' with cpu cores=1 and mem_units=2"]);
    expect(translate({ topology, current, target, newVms: [], vmSize, releaseIdleVms: false, pinsCores: () => false }).steps).toEqual([]);
    const grown = translate({ topology, current, target: { vm1: { rubis_db: { cpu_cores: 1, mem_units: 3 } } }, newVms: [], vmSize, releaseIdleVms: false, pinsCores: () => false });
    expect(grown.actions.flat()).toEqual(["update container 'rubis_db' on vm 'vm1' with cpu cores=1 and mem_units=3"]);
  });

  it('a plan equal to the current allocation needs no action', () => {
    const current = { vm1: vm('vm1', { rubis_db: [1, 2, [0]] }) };
    expect(run(current, { vm1: { rubis_db: { cpu_cores: 1, mem_units: 2 } } }).steps).toEqual([]);
  });

  it.each([
    ['create', {}, { rubis_db: { cpu_cores: 1, mem_units: 2 } }, "create container 'rubis_db' on vm 'vm1' with cpu cores=1 and mem_units=2"],
    ['update', { rubis_db: [1, 2, [0]] }, { rubis_db: { cpu_cores: 2, mem_units: 3 } }, "update container 'rubis_db' on vm 'vm1' with cpu cores=2 and mem_units=3"],
    ['delete', { rubis_db: [1, 2, [0]], rubis_app_server: [1, 1, [1]] }, { rubis_app_server: { cpu_cores: 1, mem_units: 1 } }, "delete container 'rubis_db' from vm 'vm1'"],
  ] as const)('%s a container, in the ecoware wording', (_kind, containers, target, description) => {
    const result = run({ vm1: vm('vm1', containers as never) }, { vm1: target as never });
    expect(result.actions.flat()).toContain(description);
  });

  it('puts a tier after the tiers it depends on, and dependency hooks after both', () => {
    const current = { vm1: vm('vm1', { rubis_db: [1, 1, [0]], rubis_app_server: [1, 1, [1]], rubis_loadbalancer: [1, 1, [2]] }) };
    const target = { vm1: { rubis_db: { cpu_cores: 1, mem_units: 2 }, rubis_app_server: { cpu_cores: 1, mem_units: 3 }, rubis_loadbalancer: { cpu_cores: 1, mem_units: 1 } } };
    const { actions } = run(current, target);
    expect(actions).toEqual([
      ["update container 'rubis_db' on vm 'vm1' with cpu cores=1 and mem_units=2"],
      ["update container 'rubis_app_server' on vm 'vm1' with cpu cores=1 and mem_units=3"],
      ["run tier hook for container 'rubis_app_server' on vm 'vm1'"],
      ["run tier hook for container 'rubis_loadbalancer' on vm 'vm1'"],
    ]);
  });

  it('runs a dependent tier hook on every container of that tier even when its own containers did not change', () => {
    const current = { vm1: vm('vm1', { rubis_app_server: [1, 1, [0]], rubis_loadbalancer: [1, 1, [1]] }), vm2: vm('vm2', { rubis_app_server: [1, 1, [0]] }) };
    const target = { vm1: { rubis_app_server: { cpu_cores: 2, mem_units: 1 }, rubis_loadbalancer: { cpu_cores: 1, mem_units: 1 } }, vm2: { rubis_app_server: { cpu_cores: 1, mem_units: 1 } } };
    const hooks = run(current, target).steps.flat().filter((a) => a.type === 'run_tier_hooks');
    expect(hooks).toEqual([{ type: 'run_tier_hooks', vm: 'vm1', tier: 'rubis_loadbalancer', because: ['rubis_app_server'] }]);
  });

  it('creates new VMs first and deletes emptied VMs last', () => {
    const current = { vm1: vm('vm1', { rubis_db: [1, 1, [0]] }) };
    const target = { new_vm0: { rubis_db: { cpu_cores: 1, mem_units: 1 } } };
    const { steps, actions } = run(current, target, ['new_vm0']);
    expect(actions[0]).toEqual(["create vm 'new_vm0'"]);
    expect(actions[actions.length - 1]).toEqual(["delete vm 'vm1'"]);
    expect(steps.flat().map((a) => a.type)).toEqual(['create_vm', 'delete_container', 'create_container', 'delete_vm']);
  });

  it('releases VMs that were already idle only on an elastic cloud', () => {
    const current = { vm1: vm('vm1', { rubis_db: [1, 1, [0]] }), vm2: vm('vm2') };
    const target = { vm1: { rubis_db: { cpu_cores: 1, mem_units: 1 } } };
    expect(run(current, target, [], false).actions).toEqual([]);
    expect(run(current, target, [], true).actions).toEqual([["delete vm 'vm2'"]]);
  });

  it('gives /etc/hosts entries for max_node 1 dependencies, naming the VM they run on', () => {
    const current = { vm1: vm('vm1'), vm2: vm('vm2', { rubis_db: [1, 1, [0]] }) };
    const target = { vm1: { rubis_app_server: { cpu_cores: 1, mem_units: 1 } }, vm2: { rubis_db: { cpu_cores: 1, mem_units: 1 } } };
    const create = run(current, target).steps.flat().find((a) => a.type === 'create_container');
    expect(create).toMatchObject({ tier: 'rubis_app_server', extra_hosts: [{ host: 'db', vm: 'vm2' }] });
  });

  describe('cpusets', () => {
    /** Replays the layers, releases first within a layer, and checks that no core is ever held twice. */
    function assertNoOverlap(current: Cluster, steps: Action[][]) {
      const held = new Map<string, Map<string, number[]>>();
      for (const [name, s] of Object.entries(current)) held.set(name, new Map(Object.values(s.containers).map((c) => [c.tier, c.cpuset])));
      for (const layer of steps) {
        const ordered = [...layer.filter((a) => a.type === 'delete_container' || a.type === 'update_container'), ...layer.filter((a) => a.type === 'create_container')];
        for (const a of ordered) {
          if (a.type !== 'delete_container' && a.type !== 'update_container' && a.type !== 'create_container') continue;
          const onVm = held.get(a.vm) ?? new Map<string, number[]>();
          held.set(a.vm, onVm);
          if (a.type === 'delete_container') onVm.delete(a.tier);
          else onVm.set(a.tier, a.cpuset);
          const cores = [...onVm.values()].flat();
          expect(new Set(cores).size).toBe(cores.length);
        }
      }
    }

    it('pins exactly cpu_cores cores, keeps a growing container\'s cores, and never shares a core', () => {
      const current = { vm1: vm('vm1', { rubis_db: [2, 1, [0, 1]], rubis_app_server: [1, 1, [2]] }) };
      const target = { vm1: { rubis_db: { cpu_cores: 1, mem_units: 1 }, rubis_app_server: { cpu_cores: 3, mem_units: 1 } } };
      const { steps } = run(current, target);
      const app = steps.flat().find((a) => a.type === 'update_container' && a.tier === 'rubis_app_server');
      expect(app).toMatchObject({ cpuset: expect.arrayContaining([2]) });
      expect((app as { cpuset: number[] }).cpuset).toHaveLength(3);
      assertNoOverlap(current, steps);
    });

    it('schedules a release no later than the action that takes its cores', () => {
      // app_server (level 1) shrinks and frees cores that db (level 0) needs to grow: the shrink moves up.
      const current = { vm1: vm('vm1', { rubis_db: [1, 1, [0]], rubis_app_server: [3, 1, [1, 2, 3]] }) };
      const target = { vm1: { rubis_db: { cpu_cores: 3, mem_units: 1 }, rubis_app_server: { cpu_cores: 1, mem_units: 1 } } };
      const { steps } = run(current, target);
      const layerOf = (tier: string) => steps.findIndex((layer) => layer.some((a) => a.type === 'update_container' && a.tier === tier));
      expect(layerOf('rubis_app_server')).toBeLessThanOrEqual(layerOf('rubis_db'));
      assertNoOverlap(current, steps);
    });
  });
});

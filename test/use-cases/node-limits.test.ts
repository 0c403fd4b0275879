import { AllocationProblem } from '../../src/allocator/allocator';
import { Cluster } from '../../src/domain/cluster';
import { NoSolutionError } from '../../src/domain/errors';
import { limitProblem, NO_NODE_LIMITS, NodeLimits, selectorConstraints } from '../../src/use-cases/nodes/node-limits';

/** How the node pool shapes the allocation problem: unreachable, cordoned and draining nodes, selectors. */
const vm = (name: string, labels: Record<string, string> = {}) => ({ name, capacity: { cpu_cores: 4, mem_units: 8 }, engine: { kind: 'docker' as const, url: `tcp://${name}:2375` }, labels });
const c = (tier: string, cores: number, units: number) => ({ id: `${tier}-id`, tier, resources: { cpu_cores: cores, mem_units: units }, cpuset: [0], state: 'running' });

const cluster: Cluster = {
  a: { vm: vm('a', { zone: 'x' }), containers: { app_web: c('app_web', 2, 2), app_db: c('app_db', 1, 2) } },
  b: { vm: vm('b', { zone: 'y' }), containers: { app_web: c('app_web', 1, 1) } },
  c: { vm: vm('c', { zone: 'y' }), containers: {} },
};
const problem = (plan: AllocationProblem['plan']): AllocationProblem => ({
  vmSize: { cpu_cores: 4, mem_units: 8 }, maxVms: 3, notScalable: ['app_db'], maxNode: { app_web: 3 }, plan,
  current: Object.fromEntries(Object.entries(cluster).map(([name, s]) => [name, {
    cpu_cores: 4, mem_units: 8, used: Object.fromEntries(Object.values(s.containers).map((x) => [x.tier, { ...x.resources }])),
  }])),
});
const limits = (l: Partial<Record<keyof NodeLimits, string[]>>): NodeLimits => ({
  unreachable: new Set(l.unreachable ?? []), cordoned: new Set(l.cordoned ?? []), draining: new Set(l.draining ?? []),
});

describe('limitProblem', () => {
  it('changes nothing without limits', () => {
    const p = problem({ app_web: { cpu_cores: 3, mem_units: 3 } });
    expect(limitProblem(p, cluster, NO_NODE_LIMITS)).toEqual({ problem: p, cluster });
  });

  it('leaves an unreachable node out and takes what it runs off the plan and off max_node', () => {
    const { problem: p, cluster: translated } = limitProblem(problem({ app_web: { cpu_cores: 5, mem_units: 5 }, app_db: { cpu_cores: 1, mem_units: 2 } }), cluster, limits({ unreachable: ['b'] }));
    expect(Object.keys(p.current).sort()).toEqual(['a', 'c']);
    expect(p.plan).toEqual({ app_web: { cpu_cores: 4, mem_units: 4 }, app_db: { cpu_cores: 1, mem_units: 2 } });
    expect(p.maxNode.app_web).toBe(2);
    expect(p.maxVms).toBe(2);
    expect(Object.keys(translated).sort()).toEqual(['a', 'c']);
  });

  it('refuses to change a max_node: 1 tier, or remove a tier, that runs on an unreachable node', () => {
    expect(() => limitProblem(problem({ app_web: { cpu_cores: 3, mem_units: 3 }, app_db: { cpu_cores: 2, mem_units: 2 } }), cluster, limits({ unreachable: ['a'] })))
      .toThrow(/app_db.*max_node: 1.*unreachable node 'a'/);
    expect(() => limitProblem(problem({ app_db: { cpu_cores: 1, mem_units: 2 } }), cluster, limits({ unreachable: ['b'] })))
      .toThrow(/app_web.*can't be removed.*unreachable node 'b'/);
  });

  it('sees a cordoned node as full and leaves an empty one out', () => {
    const { problem: p } = limitProblem(problem({ app_web: { cpu_cores: 3, mem_units: 3 }, app_db: { cpu_cores: 1, mem_units: 2 } }), cluster, limits({ cordoned: ['a', 'c'] }));
    expect(p.current.a).toEqual({ cpu_cores: 3, mem_units: 4, used: { app_web: { cpu_cores: 2, mem_units: 2 }, app_db: { cpu_cores: 1, mem_units: 2 } } });
    expect(p.current.c).toBeUndefined();
  });

  it('leaves a draining node out of the problem but not of the translation, its tiers still planned', () => {
    const plan = { app_web: { cpu_cores: 3, mem_units: 3 }, app_db: { cpu_cores: 1, mem_units: 2 } };
    const { problem: p, cluster: translated } = limitProblem(problem(plan), cluster, limits({ draining: ['a'] }));
    expect(Object.keys(p.current).sort()).toEqual(['b', 'c']);
    expect(p.plan).toEqual(plan);
    expect(Object.keys(translated).sort()).toEqual(['a', 'b', 'c']);
  });
});

describe('selectorConstraints', () => {
  const p = problem({ app_web: { cpu_cores: 3, mem_units: 3 }, app_db: { cpu_cores: 1, mem_units: 2 } });
  it('limits a tier to the nodes whose labels match, never new VMs', () => {
    expect(selectorConstraints(p, cluster, new Map([['app_web', { zone: 'y' }]])).placeable).toEqual({ app_web: { vms: ['b', 'c'], newVms: false } });
  });
  it('refuses a selector no node matches, naming the tier and the selector', () => {
    expect(() => selectorConstraints(p, cluster, new Map([['app_db', { zone: 'z', disk: 'ssd' }]]))).toThrow(NoSolutionError);
    expect(() => selectorConstraints(p, cluster, new Map([['app_db', { zone: 'z', disk: 'ssd' }]])))
      .toThrow("tier 'app_db' has node_selector {zone: z, disk: ssd}, which no node matches");
  });
});

import { Cluster } from '../../src/domain/cluster';
import { findDrift } from '../../src/domain/drift';

const vmState = (name: string, cpuset: number[], memUnits: number): Cluster[string] => ({
  vm: { name, capacity: { cpu_cores: 4, mem_units: 8 }, engine: { kind: 'docker', url: `fake://${name}` } },
  containers: { shop_db: { id: `${name}-db`, tier: 'shop_db', resources: { cpu_cores: 2, mem_units: memUnits }, cpuset, state: 'running' } },
});

describe('findDrift', () => {
  const known: Cluster = { n1: vmState('n1', [0, 1], 2) };

  it('counts other cores as drift where the runtime pins cores, only another number of them where it does not', () => {
    const moved: Cluster = { n1: vmState('n1', [2, 3], 2) };
    expect(findDrift(known, moved, 16).map((d) => d.kind)).toEqual(['resized']);
    expect(findDrift(known, moved, 16, new Set(), () => false)).toEqual([]);
    const fewer: Cluster = { n1: vmState('n1', [], 2) };
    fewer.n1.containers.shop_db.resources.cpu_cores = 1;
    expect(findDrift(known, fewer, 16, new Set(), () => false).map((d) => d.kind)).toEqual(['resized']);
  });

  it('counts other memory as drift on either kind of runtime', () => {
    const shrunk: Cluster = { n1: vmState('n1', [0, 1], 1) };
    expect(findDrift(known, shrunk, 16, new Set(), () => false).map((d) => d.kind)).toEqual(['resized']);
  });
});

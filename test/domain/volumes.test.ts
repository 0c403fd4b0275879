import { createAllocator } from '../../src/allocator/hybrid-allocator';
import { AllocationProblem } from '../../src/allocator/allocator';
import { Cluster } from '../../src/domain/cluster';
import { NoSolutionError } from '../../src/domain/errors';
import { parseTopology } from '../../src/schema/topology-file';
import { nodeLocalVolumes } from '../../src/domain/volumes';
import { volumeKeep } from '../../src/use-cases/nodes/node-limits';
import { decide, Snapshot } from '../../src/use-cases/execution/decide';
import { readCreateVolumeRequest } from '../../src/use-cases/nodes/node-volumes';
import { refusal } from '../support/errors';

/** Volumes of topology tiers: what is accepted, what is refused (naming the field), and the `keep` they feed the allocator. */
const doc = (tierVolumes: unknown, volumes: unknown = { data: {}, nfs: { driver_opts: { type: 'nfs', o: 'addr=10.0.0.1', device: ':/export' } } }) => ({
  infrastructure: { cpu_cores: 4, mem_units: 8, volumes },
  apps: [{ name: 'app', tiers: { db: { docker_image: 'busybox', volumes: tierVolumes }, web: { docker_image: 'busybox' } } }],
});

describe('tier volumes in the topology', () => {
  it('mounts declared volumes, read-only when asked, and knows which are shared', () => {
    const t = parseTopology(doc(['data:/var/lib/data', 'nfs:/shared:ro']));
    expect(t.tiers.get('app_db')!.volumes).toEqual([
      { type: 'volume', volume: 'data', target: '/var/lib/data', readOnly: false, driver: undefined, driverOpts: {}, external: false },
      { type: 'volume', volume: 'nfs', target: '/shared', readOnly: true, driver: undefined, driverOpts: { type: 'nfs', o: 'addr=10.0.0.1', device: ':/export' }, external: false },
    ]);
    expect(t.tiers.get('app_web')!.volumes).toBeUndefined();
    expect(t.infrastructure.volumes.data.shared).toBe(false);
    expect(t.infrastructure.volumes.nfs.shared).toBe(true);
    expect(nodeLocalVolumes(t.tiers.values(), t.infrastructure.volumes)).toEqual(new Map([['app_db', ['data']]]));
  });

  it.each([
    ['an unknown volume', ['logs:/logs'], 'apps[0].tiers.db.volumes[0]', "volume 'logs' is not declared in infrastructure.volumes (declared: data, nfs)"],
    ['a relative target', ['data:var/lib'], 'apps[0].tiers.db.volumes[0]', 'must be an absolute path'],
    ['a target with ..', ['data:/a/../etc'], 'apps[0].tiers.db.volumes[0]', 'must be an absolute path'],
    ['a bad mode', ['data:/d:rx'], 'apps[0].tiers.db.volumes[0]', "mode 'rx' must be ro or rw"],
    ['no target', ['data'], 'apps[0].tiers.db.volumes[0]', 'is not NAME:/PATH'],
    ['a target mounted twice', ['data:/d', 'nfs:/d'], 'apps[0].tiers.db.volumes[1]', 'mounted twice'],
    ['not a list', 'data:/d', 'apps[0].tiers.db.volumes', ''],
    ['a host path without --allow-bind', ['/srv/data:/d'], 'apps[0].tiers.db.volumes[0]', 'start it with --allow-bind'],
  ])('refuses %s, naming the field', (_what, volumes, field, message) => {
    const e = refusal(() => parseTopology(doc(volumes)));
    expect(e.field).toBe(field);
    expect(e.message).toContain(message);
  });

  it.each([
    ['a bad volume name', { 'bad name': {} }, 'infrastructure.volumes.bad name'],
    ['an unknown field', { data: { size: 3 } }, 'infrastructure.volumes.data.size'],
    ['driver_opts that are not a map', { data: { driver_opts: ['o=1'] } }, 'infrastructure.volumes.data.driver_opts'],
    ['a non-boolean shared', { data: { shared: 'yes' } }, 'infrastructure.volumes.data.shared'],
  ])('refuses a declaration with %s', (_what, volumes, field) => {
    expect(refusal(() => parseTopology(doc([], volumes))).field).toBe(field);
  });

  it('takes host paths under the --allow-bind root only', () => {
    const defaults = { localDocker: 'unix:///var/run/docker.sock', allowBindRoot: '/srv/data' };
    expect(parseTopology(doc(['/srv/data/db:/d']), defaults).tiers.get('app_db')!.volumes).toEqual([{ type: 'bind', source: '/srv/data/db', target: '/d', readOnly: false }]);
    expect(refusal(() => parseTopology(doc(['/etc:/d']), defaults)).message).toContain("host path '/etc' is outside the allowed root /srv/data");
    expect(refusal(() => parseTopology(doc(['/srv/data/../etc:/d']), defaults)).message).toContain('outside the allowed root');
    expect(refusal(() => parseTopology(doc(['/srv/database:/d']), defaults)).message).toContain('outside the allowed root');
  });
});

const vm = (name: string) => ({ name, capacity: { cpu_cores: 4, mem_units: 8 }, engine: { kind: 'docker' as const, url: `tcp://${name}:2375` } });
const container = (tier: string, cores: number, units: number, cpuset: number[]) => ({ id: `${tier}-id`, tier, resources: { cpu_cores: cores, mem_units: units }, cpuset, state: 'running' });

describe('node-local volumes as the allocator keep constraint', () => {
  const local = new Map([['app_db', ['data']]]);
  const base: AllocationProblem = {
    vmSize: { cpu_cores: 4, mem_units: 8 }, notScalable: [], maxNode: {},
    plan: { app_db: { cpu_cores: 2, mem_units: 2 }, app_web: { cpu_cores: 1, mem_units: 1 } },
    current: {
      a: { cpu_cores: 4, mem_units: 8, used: { app_db: { cpu_cores: 1, mem_units: 1 }, app_web: { cpu_cores: 1, mem_units: 1 } } },
      b: { cpu_cores: 4, mem_units: 8, used: {} },
    },
  };

  it('keeps every existing container of a tier with a node-local volume, and no other', () => {
    expect(volumeKeep(base, local).keep).toEqual({ a: ['app_db'] });
    expect(volumeKeep(base, new Map()).keep).toBeUndefined();
  });

  it("counts a system's named volumes as node-local unless they are NFS", () => {
    const mount = (volume: string, driverOpts: Record<string, string> = {}) => ({ type: 'volume' as const, volume, target: '/d', readOnly: false, driverOpts, external: false });
    const tiers = [
      { flatName: 'shop-1_db', system: { mounts: [mount('shop-1_dbdata')] } },
      { flatName: 'shop-1_web', system: { mounts: [mount('shop-1_media', { type: 'nfs', o: 'addr=x', device: ':/m' }), { type: 'bind' as const, source: '/srv/x', target: '/x', readOnly: true }] } },
    ];
    expect(nodeLocalVolumes(tiers, {})).toEqual(new Map([['shop-1_db', ['shop-1_dbdata']]]));
  });

  it('lets the tier go when it is planned to zero', () => {
    expect(volumeKeep({ ...base, plan: { app_web: { cpu_cores: 1, mem_units: 1 } } }, local).keep).toBeUndefined();
  });

  const topologyDoc = (bigVolumes: string[] = []) => ({
    infrastructure: {
      cloud_driver: { type: 'static', nodes: [{ name: 'a', docker: 'tcp://a:2375' }, { name: 'b', docker: 'tcp://b:2375' }] },
      cpu_cores: 4, mem_units: 8, volumes: { data: {}, logs: {} },
    },
    apps: [{ name: 'app', tiers: {
      db: { docker_image: 'busybox', volumes: ['data:/data'], max_node: 1 },
      big: { docker_image: 'busybox', max_node: 1, volumes: bigVolumes },
    } }],
  });
  const snapshot = (bigVolumes?: string[]): Snapshot => {
    const cluster: Cluster = {
      a: { vm: vm('a'), containers: { app_db: container('app_db', 1, 1, [0]), app_big: container('app_big', 2, 2, [1, 2]) } },
      b: { vm: vm('b'), containers: {} },
    };
    return { topology: parseTopology(topologyDoc(bigVolumes)), cluster, cloud: { kind: 'static', isElastic: false } };
  };
  // db grows to a whole node while big, next to it, stays as it is: one of them has to leave 'a'.
  const growDb = { app_db: { cpu_cores: 4, mem_units: 8 } };

  it('resizes the tier in place when the plan would otherwise move it; the other tier moves', async () => {
    const d = await decide(snapshot(), createAllocator(), growDb);
    expect(d.problem.keep).toEqual({ a: ['app_db'] });
    expect(d.target).toEqual({ a: { app_db: { cpu_cores: 4, mem_units: 8 } }, b: { app_big: { cpu_cores: 2, mem_units: 2 } } });
    const db = d.translation.steps.flat().filter((a) => 'tier' in a && a.tier === 'app_db').map((a) => a as { type: string; vm: string });
    expect(db.map((a) => [a.type, a.vm])).toEqual([['update_container', 'a']]);
  });

  it('answers 422 naming the pinned tiers when only a move would do', async () => {
    // big holds node-local data too (a shared volume would not pin it): neither may leave 'a'.
    const attempt = decide(snapshot(['logs:/logs']), createAllocator(), growDb);
    await expect(attempt).rejects.toThrow(NoSolutionError);
    await expect(attempt).rejects.toThrow("tier 'app_db' on 'a' (volume 'data'), tier 'app_big' on 'a' (volume 'logs')");
  });
});

describe('the node volumes API request', () => {
  it('defaults the driver to local and takes options, labels and recreate', () => {
    expect(readCreateVolumeRequest({ name: 'v1' })).toEqual({ name: 'v1', driver: 'local', driverOpts: {}, labels: {}, recreate: false });
    expect(readCreateVolumeRequest({ name: 'v1', driver: 'local', driver_opts: { type: 'tmpfs' }, labels: { a: 'b' }, recreate: true }))
      .toEqual({ name: 'v1', driver: 'local', driverOpts: { type: 'tmpfs' }, labels: { a: 'b' }, recreate: true });
  });

  it.each([
    ['no body', undefined, 'body'],
    ['no name', {}, 'name'],
    ['a name with a slash', { name: 'a/b' }, 'name'],
    ['driver_opts that are not scalars', { name: 'v', driver_opts: { o: ['x'] } }, 'driver_opts.o'],
    ['a non-boolean recreate', { name: 'v', recreate: 'yes' }, 'recreate'],
    ['an unknown field', { name: 'v', size: 1 }, 'size'],
  ])('refuses %s, naming the field', (_what, body, field) => {
    expect(refusal(() => readCreateVolumeRequest(body)).field).toMatch(new RegExp(`^${field}`));
  });
});

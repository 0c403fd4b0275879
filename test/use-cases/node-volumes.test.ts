import { ConflictError, NotFoundError } from '../../src/domain/errors';
import { loadTopology } from '../../src/use-cases/topology/load-topology';
import { NodeVolumes } from '../../src/use-cases/nodes/node-volumes';
import { fakeDaemon } from '../support/fake-daemon';
import { shopTopology } from '../support/topologies';

/** The node volumes API's use case over the fake engine, which has volumes like Docker (runtime contract). */
describe('NodeVolumes over the fake runtime', () => {
  let d: Awaited<ReturnType<typeof fakeDaemon>>;
  let volumes: NodeVolumes;
  beforeEach(async () => {
    d = await fakeDaemon({ elastic: false });
    await loadTopology(d.knowledge, d.services, shopTopology({ tiers: { db: { max_node: 1, docker_image: 'busybox', volumes: ['data:/data'] } }, infrastructure: { volumes: { data: {} } } }));
    volumes = new NodeVolumes(d.knowledge, d.services);
  });
  afterEach(async () => { await d.close(); });

  it('lists the volume a tier mounts with its container, and refuses to remove it while used', async () => {
    expect((await (await d.executions.submit({ shop_db: { cpu_cores: 1, mem_units: 1 } })).done).status).toBe('succeeded');
    expect(await volumes.list('node1')).toEqual([expect.objectContaining({ name: 'data', managed: true, used_by: ['shop_db'] })]);
    await expect(volumes.remove('node1', 'data')).rejects.toBeInstanceOf(ConflictError);
    expect((await (await d.executions.submit({ shop_db: { cpu_cores: 0, mem_units: 0 } })).done).status).toBe('succeeded');
    await volumes.remove('node1', 'data');
    await expect(volumes.remove('node1', 'data')).rejects.toBeInstanceOf(NotFoundError);
  });

  it('answers an identical volume as it is, refuses a different one unless recreate', async () => {
    const request = { name: 'scratch', driver: 'local', driverOpts: { type: 'tmpfs' }, labels: {}, recreate: false };
    expect((await volumes.create('node1', request)).created).toBe(true);
    expect((await volumes.create('node1', request)).created).toBe(false);
    await expect(volumes.create('node1', { ...request, driverOpts: {} })).rejects.toBeInstanceOf(ConflictError);
    expect(await volumes.create('node1', { ...request, driverOpts: {}, recreate: true })).toMatchObject({ created: true, volume: { driver_opts: {} } });
  });
});

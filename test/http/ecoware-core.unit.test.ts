import request from 'supertest';
import { fakeDaemon } from '../support/fake-daemon';
import { shopTopology } from '../support/topologies';

/** The ecoware-core routes over fake engines: names, spread tiers, ambiguity. */
describe('ecoware-core routes over fake engines', () => {
  let daemon: Awaited<ReturnType<typeof fakeDaemon>>;
  beforeEach(async () => { daemon = await fakeDaemon({ elastic: false }); });
  afterEach(async () => { await daemon.close(); });

  const twoNodes = [{ name: 'node1', docker: 'tcp://node1:2375' }, { name: 'node2', docker: 'tcp://node2:2375' }];

  it('lists a tier spread over several VMs with all its cores in one comma list and its memory summed', async () => {
    const api = request(daemon.app);
    expect((await api.put('/api/topology').send(shopTopology({ nodes: twoNodes }))).status).toBe(200);
    // Six cores of web do not fit on one 4-core node.
    const res = await api.post('/api/executor').send({ 'shop-web': { cpu_cores: 6, mem_units: 6 } });
    expect(res.status).toBe(200);
    const probe = (await api.get('/api/executor/inspect')).body;
    expect(Object.keys(probe).sort()).toEqual(['shop-web', 'shop_web', 'web']);
    const cores = probe.shop_web.CpusetCpus.split(',');
    expect(cores).toHaveLength(6);
    expect(cores.every((c: string) => /^\d+$/.test(c))).toBe(true);
    expect(probe.shop_web.Memory).toBe(6 * 16 * 2 ** 20);
  });

  it('accepts only names that resolve to one tier, and lists a tier under those names only', async () => {
    const api = request(daemon.app);
    const topology = {
      infrastructure: { cloud_driver: { type: 'static', nodes: twoNodes }, cpu_cores: 4, mem_units: 8, mem_unit_mb: 16 },
      apps: [
        { name: 'a', tiers: { 'b-c': { docker_image: 'busybox' }, web: { docker_image: 'busybox' } } },
        { name: 'a-b', tiers: { c: { docker_image: 'busybox' }, web: { docker_image: 'busybox' } } },
      ],
    };
    expect((await api.put('/api/topology').send(topology)).status).toBe(200);
    const ambiguous = await api.post('/api/executor').send({ 'a-b-c': { cpu_cores: 1, mem_units: 1 } });
    expect(ambiguous.status).toBe(400);
    expect(ambiguous.body.error).toMatch(/'a-b-c' is ambiguous \(a_b-c, a-b_c\)/);
    const bare = await api.post('/api/executor').send({ web: { cpu_cores: 1, mem_units: 1 } });
    expect(bare.status).toBe(400);
    expect(bare.body.error).toMatch(/ambiguous/);
    const ok = await api.post('/api/executor').send({ 'a_b-c': { cpu_cores: 1, mem_units: 1 }, 'a-b-web': { cpu_cores: 1, mem_units: 1 }, c: { cpu_cores: 1, mem_units: 1 } });
    expect(ok.status).toBe(200);
    const probe = (await api.get('/api/executor/inspect')).body;
    expect(Object.keys(probe).sort()).toEqual(['a-b-web', 'a-b_c', 'a-b_web', 'a_b-c', 'b-c', 'c']);
  });
});

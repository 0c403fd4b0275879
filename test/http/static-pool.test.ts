import { engineClient, startEngine, TestEngine } from '../support/engines';
import { testImage } from '../support/docker';
import { Api, PoolDaemon, startPoolDaemon } from '../support/pool-daemon';

/**
 * A static pool of two nodes, each a real dockerd on its own 127.0.0.N: containers spread over
 * nodes, never share a core on a node, reach a `max_node: 1` dependency through /etc/hosts, and a
 * plan larger than the pool is refused.
 */
const APP = 'shop';

describe('static pool of two engines', () => {
  let pool: PoolDaemon<TestEngine>;
  let engines: TestEngine[];
  let api: Api;

  async function containersOn(e: TestEngine) {
    const list = await engineClient(e).listContainers({ all: true });
    const inspected = await Promise.all(list.map((c) => engineClient(e).getContainer(c.Id).inspect()));
    return inspected.map((c) => ({ name: c.Name.slice(1), cpuset: c.HostConfig.CpusetCpus ?? "", hosts: c.HostConfig.ExtraHosts ?? [], memory: c.HostConfig.Memory }));
  }

  beforeAll(async () => {
    pool = await startPoolDaemon({
      startEngine, engineIndexes: [1, 2],
      infrastructure: { cpu_cores: 2, mem_units: 4, mem_unit_mb: 16 },
      apps: [{ name: APP, tiers: {
        db: { max_node: 1, docker_image: testImage() },
        web: { docker_image: testImage(), depends_on: ['db'] },
      } }],
    });
    ({ engines, api } = pool);
  }, 180_000);

  afterAll(() => pool?.close());

  it('spreads a tier over the nodes, one core set per container, never shared on a node', async () => {
    const res = await api.put('/api/execute').send({ [APP]: { db: { cpu_cores: 1, mem_units: 1 }, web: { cpu_cores: 3, mem_units: 2 } } });
    expect(res.status).toBe(200);
    const byNode = await Promise.all(engines.map(containersOn));
    const all = byNode.flat();
    expect(all.filter((c) => c.name === `${APP}_web`)).toHaveLength(2);
    expect(all.filter((c) => c.name === `${APP}_db`)).toHaveLength(1);
    for (const containers of byNode) {
      const cores = containers.flatMap((c) => c.cpuset.split(','));
      expect(new Set(cores).size).toBe(cores.length);
    }
    const totalWebCores = all.filter((c) => c.name === `${APP}_web`).reduce((n, c) => n + c.cpuset.split(',').length, 0);
    expect(totalWebCores).toBe(3);
  });

  it('gives the dependent tier an /etc/hosts entry for its max_node 1 dependency', async () => {
    // The address is the one the executor reports for the db's VM (for an engine on a loopback
    // address, the gateway of its bridge: what containers use to reach the host).
    const allocation = (await api.get('/api/allocation')).body;
    const dbVm = Object.keys(allocation).find((vm) => allocation[vm].used[`${APP}_db`]);
    expect(allocation[dbVm!].ip).toMatch(/^\d+\.\d+\.\d+\.\d+$/);
    const webs = (await Promise.all(engines.map(containersOn))).flat().filter((c) => c.name === `${APP}_web`);
    expect(webs).toHaveLength(2);
    for (const web of webs) expect(web.hosts).toContain(`db:${allocation[dbVm!].ip}`);
  });

  it('refuses a plan needing more VMs than the pool has, with 422 saying so', async () => {
    const res = await api.put('/api/execute').send({ [APP]: { web: { cpu_cores: 5, mem_units: 3 } } });
    expect(res.status).toBe(422);
    expect(res.body.error).toMatch(/No solution found: the plan needs 3 VMs but the static cloud allows 2/);
  });

  it('gathers a shrinking tier on fewer nodes and leaves the emptied node idle in the pool', async () => {
    const res = await api.put('/api/execute').send({ [APP]: { web: { cpu_cores: 1, mem_units: 1 } } });
    expect(res.status).toBe(200);
    const allocation = (await api.get('/api/allocation')).body;
    expect(Object.keys(allocation).sort()).toEqual(['n1', 'n2']);
    const used = Object.values(allocation).map((vm: any) => Object.keys(vm.used).length).sort();
    expect(used).toEqual([0, 2]);
    const counts = (await Promise.all(engines.map(containersOn))).map((cs) => cs.length).sort();
    expect(counts).toEqual([0, 2]);
  });
});

import { testImage } from '../support/docker';
import { engineClient } from '../support/engines';
import { Api, PoolDaemon, startPoolDaemon } from '../support/pool-daemon';
import { CrashableEngine, startCrashableEngine } from '../support/pool-engines';
import { waitUntil } from '../support/wait-for';

/**
 * A lost node (SPEC §8) on two real engines: the engine of the node running the app is killed;
 * after `node_lost_after_s` its tiers run on the other node (an execution of kind heal), and when
 * it comes back what it still ran is removed: nothing runs twice.
 */
const APP = 'lost';

describe('lost node and self-healing', () => {
  let pool: PoolDaemon<CrashableEngine>;
  let engines: CrashableEngine[];
  let api: Api;
  const names = async (e: CrashableEngine) => (await engineClient(e).listContainers({ all: true })).map((c) => c.Names[0].slice(1)).sort();

  beforeAll(async () => {
    pool = await startPoolDaemon({
      startEngine: startCrashableEngine, engineIndexes: [15, 16],
      daemonConfig: { solverTimeLimitMs: 5000 },
      infrastructure: { cpu_cores: 2, mem_units: 4, mem_unit_mb: 16, node_health_interval_s: 1, node_lost_after_s: 3, reconcile_interval_s: 0 },
      apps: [{ name: APP, tiers: { db: { max_node: 1, docker_image: testImage() }, web: { docker_image: testImage() } } }],
    });
    ({ engines, api } = pool);
    expect((await api.put('/api/execute').send({ [APP]: { db: { cpu_cores: 1, mem_units: 1 }, web: { cpu_cores: 1, mem_units: 1 } } })).status).toBe(200);
  }, 180_000);

  afterAll(() => pool?.close());

  it('places a lost node\'s tiers on the others, and cleans the node when it returns', async () => {
    const allocation = (await api.get('/api/allocation')).body;
    const host = Object.keys(allocation).find((vm) => Object.keys(allocation[vm].used).length > 0)!;
    const other = host === 'n1' ? 'n2' : 'n1';
    const hostEngine = engines[Number(host.slice(1)) - 1];
    const otherEngine = engines[Number(other.slice(1)) - 1];
    expect(await names(hostEngine)).toEqual([`${APP}_db`, `${APP}_web`]);

    await hostEngine.crash();
    const crashed = Date.now();
    await waitUntil('unreachable', async () => ((await api.get('/api/nodes')).body.find((n: any) => n.name === host).health === 'unreachable' ? true : undefined), 30_000, { ignoreErrors: true });
    const unreachableMs = Date.now() - crashed;
    await waitUntil('the healed placement', async () => {
      const running = (await engineClient(otherEngine).listContainers()).map((c) => c.Names[0].slice(1)).sort();
      return running.length === 2 ? running : undefined;
    }, 30_000, { ignoreErrors: true });
    const healedMs = Date.now() - crashed;
    console.log(`engine death -> unreachable ${unreachableMs} ms, -> healed placement ${healedMs} ms (interval 1 s, node_lost_after_s 3)`);
    expect(await names(otherEngine)).toEqual([`${APP}_db`, `${APP}_web`]);
    const heal = ((await api.get('/api/executions')).body.objects as any[]).find((e) => e.kind === 'heal');
    expect(heal).toMatchObject({ kind: 'heal', status: 'succeeded' });
    expect((await api.get('/api/allocation')).body[host].used).toEqual({});

    await hostEngine.revive();
    await waitUntil('the returned node cleaned', async () => ((await names(hostEngine)).length === 0 ? true : undefined), 30_000, { ignoreErrors: true });
    expect((await api.get('/api/nodes')).body.find((n: any) => n.name === host)).toMatchObject({ health: 'ready', containers: [] });
    expect(await names(otherEngine)).toEqual([`${APP}_db`, `${APP}_web`]);
    const res = await api.put('/api/execute').send({});
    expect(res.status).toBe(200);
    expect(res.body.actions).toEqual([]);
  });
});

import { testImage } from '../support/docker';
import { engineClient } from '../support/engines';
import { Api, PoolDaemon, startPoolDaemon } from '../support/pool-daemon';
import { CrashableEngine, startCrashableEngine } from '../support/pool-engines';
import { waitUntil } from '../support/wait-for';
import { stateRows } from '../support/state-db';

/**
 * The node pool against two real engines, one of which is crashed (its dockerd killed): health,
 * placement around unreachable nodes, a daemon started while an engine is down, cordons that
 * survive a restart, and a drain preview that changes nothing.
 */
const APP = 'pool';
const INTERVAL_S = 1;

describe('node pool of two engines', () => {
  let pool: PoolDaemon<CrashableEngine>;
  let engines: CrashableEngine[];
  let api: Api;
  let stateDir: string;
  const restart = async (whileStopped?: () => Promise<void>) => { await pool.restartDaemon(whileStopped); api = pool.api; };
  const engineOf = (node: string) => engines[Number(node.slice(1)) - 1];
  const apps = (webSelector?: Record<string, string>) => [{ name: APP, tiers: {
    db: { max_node: 1, docker_image: testImage() },
    web: { docker_image: testImage(), ...(webSelector ? { node_selector: webSelector } : {}) },
  } }];
  const topology = (webSelector?: Record<string, string>) => pool.topology(apps(webSelector));
  const all = async () => [...await containers(engines[0]), ...await containers(engines[1])];
  const nodes = async () => Object.fromEntries(((await api.get('/api/nodes')).body as any[]).map((n) => [n.name, n]));

  async function containers(e: CrashableEngine) {
    const list = await engineClient(e).listContainers({ all: true });
    return list.map((c) => ({ name: c.Names[0].slice(1), state: c.State }));
  }

  beforeAll(async () => {
    pool = await startPoolDaemon({
      startEngine: startCrashableEngine, engineIndexes: [11, 12],
      nodeLabels: (i) => ({ zone: `z${i + 1}` }),
      daemonConfig: { solverTimeLimitMs: 5000 },
      infrastructure: { cpu_cores: 2, mem_units: 4, mem_unit_mb: 16, node_health_interval_s: INTERVAL_S, reconcile_interval_s: 0 },
      apps: apps(),
    });
    ({ engines, api, stateDir } = pool);
    expect((await api.put('/api/execute').send({ [APP]: { db: { cpu_cores: 1, mem_units: 1 }, web: { cpu_cores: 1, mem_units: 1 } } })).status).toBe(200);
  }, 180_000);

  afterAll(() => pool?.close());

  let host: string; // the node running db and web
  let other: string;

  it('lists every node with its health, labels, capacity and containers', async () => {
    const list = await nodes();
    expect(Object.keys(list).sort()).toEqual(['n1', 'n2']);
    host = Object.keys(list).find((n) => list[n].containers.length > 0)!;
    other = host === 'n1' ? 'n2' : 'n1';
    expect(list[host]).toMatchObject({
      health: 'ready', schedulable: true, cordoned: false, docker: engineOf(host).endpoint,
      labels: { zone: `z${host.slice(1)}` }, capacity: { cpu_cores: 2, mem_units: 4 }, used: { cpu_cores: 2, mem_units: 2 },
    });
    expect(list[host].containers.map((c: any) => [c.tier, c.state])).toEqual([[`${APP}_db`, 'running'], [`${APP}_web`, 'running']]);
    expect(list[host].last_seen).toEqual(expect.any(String));
    expect(list[other]).toMatchObject({ health: 'ready', used: { cpu_cores: 0, mem_units: 0 }, containers: [] });
  });

  it('marks a crashed engine unreachable within three health intervals; plans place around it', async () => {
    await engineOf(host).crash();
    const crashed = Date.now();
    await waitUntil('unreachable', async () => ((await nodes())[host].health === 'unreachable' ? true : undefined), 20_000);
    const elapsed = Date.now() - crashed;
    console.log(`engine death -> unreachable: ${elapsed} ms (interval ${INTERVAL_S * 1000} ms)`);
    expect(elapsed).toBeLessThan(3 * INTERVAL_S * 1000 + 2_500);

    const list = await nodes();
    expect(list[host]).toMatchObject({ health: 'unreachable', schedulable: false, last_error: expect.any(String) });
    expect((await api.get('/api/allocation')).body[host]).toMatchObject({ health: 'unreachable', used: { [`${APP}_db`]: { cpu_cores: 1, mem_units: 1 } } });

    // web grows by one core: the core goes to the other node; nothing is asked of the dead one.
    const res = await api.put('/api/execute').send({ [APP]: { web: { cpu_cores: 2, mem_units: 2 } } });
    expect(res.status).toBe(200);
    expect(res.body.actions.flat()).toEqual([`create container '${APP}_web' on vm '${other}' with cpu cores=1 and mem_units=1`]);
    expect(await containers(engineOf(other))).toEqual([{ name: `${APP}_web`, state: 'running' }]);

    // The max_node: 1 tier on the dead node can't change until the node is back: 422, nothing changes.
    const db = await api.put('/api/execute').send({ [APP]: { db: { cpu_cores: 1, mem_units: 2 } } });
    expect(db.status).toBe(422);
    expect(db.body.error).toMatch(new RegExp(`${APP}_db.*unreachable node '${host}'`));
  });

  it('finds a node ready again when its engine answers, and duplicates nothing', async () => {
    await engineOf(host).revive();
    await waitUntil('ready', async () => ((await nodes())[host].health === 'ready' ? true : undefined), 20_000);
    const res = await api.put('/api/execute').send({});
    expect(res.status).toBe(200);
    const all = [...await containers(engines[0]), ...await containers(engines[1])];
    expect(all.filter((c) => c.name === `${APP}_db`)).toEqual([{ name: `${APP}_db`, state: 'running' }]);
    expect(all.filter((c) => c.name === `${APP}_web`)).toHaveLength(2);
    expect(all.every((c) => c.state === 'running')).toBe(true);
  });

  it('starts and serves while an engine is down, with that node unreachable', async () => {
    try {
      // The other node's engine dies while the daemon is stopped.
      await restart(() => engineOf(other).crash());
      const list = await nodes();
      expect(list[other].health).toBe('unreachable');
      expect(list[host].health).toBe('ready');
      // What the dead node ran is still counted (from the last record), so nothing is placed twice.
      expect((await api.get('/api/allocation')).body[other].used).toEqual({ [`${APP}_web`]: { cpu_cores: 1, mem_units: 1 } });
      const res = await api.put('/api/execute').send({ [APP]: { db: { cpu_cores: 1, mem_units: 2 } } });
      expect(res.status).toBe(200);
      expect(res.body.actions.flat()).toEqual([`update container '${APP}_db' on vm '${host}' with cpu cores=1 and mem_units=2`]);
    } finally {
      await engineOf(other).revive();
    }
    await waitUntil('ready', async () => ((await nodes())[other].health === 'ready' ? true : undefined), 20_000);
    expect((await api.put('/api/execute').send({})).status).toBe(200);
  });

  it('keeps a cordoned node from new containers, across a restart, until it is uncordoned', async () => {
    // Free the other node, then cordon it: a tier that must grow has nowhere to go.
    expect((await api.put('/api/execute').send({ [APP]: { web: { cpu_cores: 1, mem_units: 1 } } })).status).toBe(200);
    const cordoned = await api.post(`/api/nodes/${other}/cordon`);
    expect(cordoned.status).toBe(200);
    expect(cordoned.body).toMatchObject({ name: other, cordoned: true, schedulable: false });
    await restart();
    expect((await nodes())[other]).toMatchObject({ cordoned: true, schedulable: false, health: 'ready' });
    const allocation = (await api.get('/api/allocation')).body;
    expect(allocation[other].cordoned).toBe(true);

    const refused = await api.put('/api/translate').send({ [APP]: { web: { cpu_cores: 2, mem_units: 2 } } });
    expect(refused.status).toBe(422);

    expect((await api.post(`/api/nodes/${other}/uncordon`)).body).toMatchObject({ cordoned: false, schedulable: true });
    const placed = await api.put('/api/translate').send({ [APP]: { web: { cpu_cores: 2, mem_units: 2 } } });
    expect(placed.status).toBe(200);
    expect(placed.body.actions.flat().join('\n')).toMatch(new RegExp(`on vm '${other}'`));
    expect((await api.post('/api/nodes/nope/cordon')).status).toBe(404);
  });

  it.each(['__proto__', 'constructor', 'toString'])('answers 404 for a node named %s on every node route, and changes nothing', async (name) => {
    const cordons = async () => ((await api.get('/api/nodes')).body as { name: string; cordoned: boolean; draining: boolean }[]).map((n) => ({ name: n.name, cordoned: n.cordoned, draining: n.draining }));
    const before = { nodes: await cordons(), executions: (await api.get('/api/executions')).body.meta.total_count, state: stateRows(stateDir, 'SELECT node FROM cordons ORDER BY node') };
    for (const [method, route] of [
      ['get', ''], ['post', '/cordon'], ['post', '/uncordon'], ['post', '/drain'], ['post', '/drain?dry_run=true'],
      ['get', '/volumes'], ['delete', '/volumes/v1'],
    ] as const) {
      const res = await api[method](`/api/nodes/${name}${route}`);
      expect({ route, status: res.status, body: res.body }).toMatchObject({ route, status: 404, body: { code: 'not_found', error: expect.stringContaining(`node '${name}' is not in the fleet`) } });
    }
    const created = await api.post(`/api/nodes/${name}/volumes`).send({ name: 'v1' });
    expect(created.status).toBe(404);
    expect(await cordons()).toEqual(before.nodes);
    expect((await api.get('/api/executions')).body.meta.total_count).toBe(before.executions);
    expect(stateRows(stateDir, 'SELECT node FROM cordons ORDER BY node')).toEqual(before.state);
  });

  it('previews a drain without changing anything', async () => {
    // Room on the other node for what the host runs: db 1 core, web 1 core.
    const before = [...await containers(engines[0]), ...await containers(engines[1])];
    const preview = await api.post(`/api/nodes/${host}/drain?dry_run=true`);
    expect(preview.status).toBe(200);
    expect(preview.body.node).toBe(host);
    const actions: string[] = preview.body.actions.flat();
    expect(actions).toEqual(expect.arrayContaining([
      `delete container '${APP}_db' from vm '${host}'`,
      `create container '${APP}_db' on vm '${other}' with cpu cores=1 and mem_units=2`,
    ]));
    expect(Object.keys(preview.body.allocation)).toEqual([other]);
    expect([...await containers(engines[0]), ...await containers(engines[1])]).toEqual(before);
    expect((await nodes())[host]).toMatchObject({ cordoned: false, draining: false });
  });

  it('keeps a tier with a node_selector on the nodes whose labels match', async () => {
    expect((await api.put('/api/topology').send(topology({ zone: `z${other.slice(1)}` }))).status).toBe(200);
    const res = await api.put('/api/execute').send({});
    expect(res.status).toBe(200);
    expect((await containers(engineOf(other))).map((c) => c.name)).toContain(`${APP}_web`);
    expect((await containers(engineOf(host))).map((c) => c.name)).not.toContain(`${APP}_web`);
  });

  it('refuses with 422 naming the tier and the selector when no node matches, changing nothing', async () => {
    const before = await all();
    expect((await api.put('/api/topology').send(topology({ zone: 'nowhere' }))).status).toBe(200);
    const res = await api.put('/api/execute').send({ [APP]: { web: { cpu_cores: 1, mem_units: 2 } } });
    expect(res.status).toBe(422);
    expect(res.body.error).toContain(`tier '${APP}_web' has node_selector {zone: nowhere}`);
    expect(await all()).toEqual(before);
    expect((await api.put('/api/topology').send(topology())).status).toBe(200);
  });

  it('drains a node: a recorded execution of kind drain empties it, and it stays cordoned', async () => {
    const res = await api.post(`/api/nodes/${host}/drain`);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ kind: 'drain', status: 'succeeded' });
    expect(await containers(engineOf(host))).toEqual([]);
    expect((await containers(engineOf(other))).map((c) => c.name).sort()).toEqual([`${APP}_db`, `${APP}_web`]);
    expect((await nodes())[host]).toMatchObject({ cordoned: true, draining: false, containers: [] });
    const record = (await api.get(`/api/executions/${res.body.execution_id}`)).body;
    expect(record.kind).toBe('drain');
    expect(record.status).toBe('succeeded');
    expect((await api.post(`/api/nodes/${host}/uncordon`)).status).toBe(200);
  });
});

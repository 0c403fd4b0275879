import { parseTopology } from '../../src/schema/topology-file';
import request from 'supertest';
import { InfrastructureError } from '../../src/domain/errors';
import { HookRefresh } from '../../src/use-cases/topology/hook-refresh';
import { loadTopology } from '../../src/use-cases/topology/load-topology';
import { TopologyRestore } from '../../src/use-cases/topology/restore-topology';
import { SerialQueue } from '../../src/use-cases/execution/serial-queue';
import { fakeDaemon } from '../support/fake-daemon';
import { shopTopology } from '../support/topologies';

/** Start-up use cases over fake engines: no daemon, no Docker engine. */
describe('TopologyRestore', () => {
  let d: Awaited<ReturnType<typeof fakeDaemon>>;
  const quiet = { info: () => undefined, error: () => undefined };
  beforeEach(async () => { d = await fakeDaemon({ elastic: false }); });
  afterEach(async () => { await d.close(); });

  it('puts the persisted topology back in force at once while an engine is down, with that node unreachable (SPEC §8)', async () => {
    await d.services.topologies.save(shopTopology());
    d.engines.engine('tcp://node1:2375').failNext('ping', new InfrastructureError('connection refused', 'engine'));
    const restore = new TopologyRestore(d.knowledge, d.services, new SerialQueue(), { retryMs: 10, log: quiet });
    await restore.run();
    expect(d.knowledge.requireDeployment().topology.apps.map((a) => a.name)).toEqual(['shop']);
    expect(d.knowledge.nodes.get('node1')).toMatchObject({ health: 'unreachable', lastError: expect.stringMatching(/connection refused/) });
    expect(restore.retrying).toBe(false);
    restore.close();
  });

  it('gives way to a topology put meanwhile', async () => {
    await d.services.topologies.save(shopTopology());
    d.engines.engine('tcp://node1:2375').failNext('ping', new InfrastructureError('connection refused', 'engine'));
    const restore = new TopologyRestore(d.knowledge, d.services, new SerialQueue(), { retryMs: 10, log: quiet });
    await restore.run();
    const put = shopTopology({ nodes: [{ name: 'other', docker: 'tcp://other:2375' }] });
    await loadTopology(d.knowledge, d.services, put);
    await new Promise((r) => setTimeout(r, 50));
    expect(Object.keys(d.knowledge.requireDeployment().cluster)).toEqual(['other']);
    restore.close();
  });

  it('puts back a persisted topology whose image references a PUT would now refuse', async () => {
    // Image references were once taken as any string; a topology stored then must still come back.
    await d.services.topologies.save(shopTopology({ image: 'Shop/Web' }));
    const restore = new TopologyRestore(d.knowledge, d.services, new SerialQueue(), { retryMs: 10, log: quiet });
    await restore.run();
    expect(d.knowledge.requireDeployment().topology.tiers.get('shop_web')?.image).toBe('Shop/Web');
    await expect(loadTopology(d.knowledge, d.services, shopTopology({ image: 'Shop/Web' }))).rejects.toMatchObject({ field: 'apps[0].tiers.db.docker_image' });
    restore.close();
  });

  it('answers 503 "starting" with Retry-After, not 409, until the persisted topology is back in force', async () => {
    await d.services.topologies.save(shopTopology());
    const restore = new TopologyRestore(d.knowledge, d.services, d.queue, { retryMs: 10, log: quiet });
    restore.begin();
    // Whatever runs on the queue first (a plan of the previous life, say) holds the restore back.
    let release!: () => void;
    const held = d.queue.run(() => new Promise<void>((resolve) => { release = resolve; }));
    const restoring = restore.run();
    const api = request(d.app);
    for (const res of [await api.get('/api/topology'), await api.get('/api/allocation'),
      await api.post('/api/executor').send({ shop_web: { cpu_cores: 1, mem_units: 1 } })]) {
      expect(res.status).toBe(503);
      expect(res.headers['retry-after']).toBe('1');
      expect(res.body).toMatchObject({ code: 'starting', error: expect.stringMatching(/starting: the persisted topology is being restored/) });
    }
    release();
    await held;
    await restoring;
    expect((await api.get('/api/topology')).status).toBe(200);
    restore.close();
  });

  it('keeps answering 503 while a failed restore waits for its retry, and 409 once there is nothing to restore', async () => {
    const empty = new TopologyRestore(d.knowledge, d.services, d.queue, { log: quiet });
    empty.begin();
    await empty.run();
    expect((await request(d.app).get('/api/topology')).status).toBe(409);

    await d.services.topologies.save(shopTopology());
    const failing = new TopologyRestore(d.knowledge, d.services, d.queue, { retryMs: 60_000, log: quiet });
    failing.begin();
    // The topology's hooks cannot be fetched (a real git, a remote that is not there): a later attempt may fare better.
    const withHooks = shopTopology();
    (withHooks.infrastructure as Record<string, unknown>).hooks_git_repo = `file://${d.stateDir}/no-such-remote.git`;
    await d.services.topologies.save(withHooks);
    await failing.run();
    expect(failing.retrying).toBe(true);
    const res = await request(d.app).get('/api/allocation');
    expect(res.status).toBe(503);
    expect(res.headers['retry-after']).toBe('60');
    expect(res.body.error).toMatch(/not restored yet \(.*no-such-remote.*\); retrying every 60 s/);
    failing.close();
    expect((await request(d.app).get('/api/allocation')).status).toBe(409);
  });

  it('starts from the initial document when the state holds none, and persists it', async () => {
    const restore = new TopologyRestore(d.knowledge, d.services, new SerialQueue(), { initialDocument: async () => shopTopology(), log: quiet });
    await restore.run();
    expect(d.knowledge.deployment).toBeDefined();
    expect(await d.services.topologies.load()).toEqual(shopTopology());
  });
});

describe('HookRefresh', () => {
  it('follows the topology in force: a schedule for a hooks repository, none without', async () => {
    const timer = { started: [] as string[], stops: 0, start(cron: string) { this.started.push(cron); }, stop() { this.stops++; } };
    const synced: string[] = [];
    const source = { sync: async (repo: string) => { synced.push(repo); return { commit: 'c' }; } } as never;
    const refresh = new HookRefresh(timer, source, new SerialQueue());
    const withRepo = parseTopology(shopTopology({ infrastructure: { hooks_git_repo: 'https://example.invalid/h.git', hooks_refresh: '*/5 * * * *' } }));
    refresh.follow(withRepo);
    expect(timer.started).toEqual(['*/5 * * * *']);
    refresh.follow(parseTopology(shopTopology()));
    expect(timer.started).toHaveLength(1);
    expect(timer.stops).toBe(2);
  });
});

import { parseTopology } from '../../src/domain/topology';
import { InfrastructureError } from '../../src/domain/errors';
import { HookRefresh } from '../../src/use-cases/hook-refresh';
import { loadTopology } from '../../src/use-cases/load-topology';
import { TopologyRestore } from '../../src/use-cases/restore-topology';
import { SerialQueue } from '../../src/use-cases/serial-queue';
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

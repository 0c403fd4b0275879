import { InfrastructureError, NoSolutionError, NotFoundError, ValidationError } from '../../src/domain/errors';
import { SqliteSystemStore } from '../../src/drivers/sqlite/sqlite-system-store';
import { SystemBook } from '../../src/use-cases/systems/system-book';
import { loadTopology } from '../../src/use-cases/topology/load-topology';
import { Systems } from '../../src/use-cases/systems/systems';
import { SerialQueue } from '../../src/use-cases/execution/serial-queue';
import { fakeDaemon } from '../support/fake-daemon';

/** The systems use case over fake engines: what a start, a refusal, a failure and a delete leave behind. */
describe('Systems', () => {
  let d: Awaited<ReturnType<typeof fakeDaemon>>;
  let systems: Systems;
  let store: SqliteSystemStore;
  const nodes = [{ name: 'node1', docker: 'tcp://node1:2375' }, { name: 'node2', docker: 'tcp://node2:2375' }];
  const compose = {
    services: {
      db: { image: 'busybox', deploy: { resources: { limits: { cpus: '1', memory: '16M' } } } },
      web: { image: 'busybox', ports: ['8080'], depends_on: ['db'], deploy: { resources: { limits: { cpus: '2', memory: '20M' } } } },
    },
  };
  const apps = () => (d.knowledge.requireDeployment().topology.raw.apps as { name: string }[]).map((a) => a.name);
  const containers = () => nodes.flatMap((n) => [...d.engines.engine(n.docker).containers.values()].map((c) => c.name));

  beforeEach(async () => {
    d = await fakeDaemon({ elastic: false });
    await loadTopology(d.knowledge, d.services, {
      infrastructure: { cloud_driver: { type: 'static', nodes }, cpu_cores: 4, mem_units: 8, mem_unit_mb: 16 },
      apps: [],
    });
    store = d.state.systems;
    systems = new Systems(d.knowledge, d.services, new SerialQueue(), d.executions.intake, { book: new SystemBook(store), readyTimeoutMs: 1000 });
  });
  afterEach(async () => { await d.close(); });

  it('starts a system as the app <name>-<sid> through one execution of kind system', async () => {
    const { record, executionId, done } = await systems.start({ name: 'shop', compose });
    const status = await done;
    expect(status).toMatchObject({ name: 'shop', sid: record.sid, app: `shop-${record.sid}`, namespace: 'default', ready: true });
    expect(Object.keys(status.services)).toEqual(['db', 'web']);
    expect(apps()).toEqual([`shop-${record.sid}`]);
    expect(containers().sort()).toEqual([`shop-${record.sid}_db`, `shop-${record.sid}_web`]);
    expect(await d.services.executions.get(executionId)).toMatchObject({ kind: 'system', status: 'succeeded', plan: {
      [`shop-${record.sid}_db`]: { cpu_cores: 1, mem_units: 1 }, [`shop-${record.sid}_web`]: { cpu_cores: 2, mem_units: 2 },
    } });
    expect(store.get(record.sid)).toMatchObject({ status: 'running', execution_ids: [executionId] });
    // The record survives a daemon restart.
    expect(new SqliteSystemStore(d.state.db).get(record.sid)).toMatchObject({ app: `shop-${record.sid}`, status: 'running' });
  });

  it('refuses a bad file before anything is recorded or changed', async () => {
    await expect(systems.start({ name: 'shop', compose: { services: { web: { image: 'x', privileged: true } } } })).rejects.toThrow(ValidationError);
    await expect(systems.start({ compose })).rejects.toThrow(/name: is required/);
    await expect(systems.start({ name: 'Shop', compose })).rejects.toThrow(ValidationError);
    await expect(systems.start({ name: 'shop', namespace: 'A B', compose })).rejects.toThrow(/namespace/);
    await expect(systems.start({ name: 'shop', env: 'X=${Y:?needed}', compose })).rejects.toThrow(/needed/);
    expect(store.list()).toEqual([]);
    expect(apps()).toEqual([]);
  });

  it('answers no room with a recorded execution, and leaves neither containers, app nor record', async () => {
    const big = { services: { huge: { image: 'busybox', deploy: { replicas: 3, resources: { limits: { cpus: '4' } } } } } };
    const { done } = await systems.start({ name: 'big', compose: big });
    await expect(done).rejects.toThrow(NoSolutionError);
    expect(containers()).toEqual([]);
    expect(apps()).toEqual([]);
    expect(store.list()).toEqual([]);
  });

  it('takes back what a failed start created', async () => {
    // db lands first; web's create fails on whichever engine it goes to.
    for (const n of nodes) {
      const engine = d.engines.engine(n.docker);
      const create = engine.create.bind(engine);
      engine.create = async (spec) => {
        if (spec.tier === 'web') throw new InfrastructureError('no such image');
        return create(spec);
      };
    }
    const { done } = await systems.start({ name: 'shop', compose });
    await expect(done).rejects.toThrow(/no such image/);
    const calls = nodes.flatMap((n) => d.engines.engine(n.docker).calls);
    expect(calls.some((c) => c.op === 'create' && c.target?.endsWith('_db'))).toBe(true);
    expect(calls.some((c) => c.op === 'remove')).toBe(true);
    expect(containers()).toEqual([]);
    expect(apps()).toEqual([]);
    expect(store.list()).toEqual([]);
  });

  it('deletes a system: its containers, then its app and record; unknown sids are 404', async () => {
    const { record, done } = await systems.start({ name: 'shop', compose });
    await done;
    const removed = await systems.delete(record.sid, { volumes: false });
    expect(await d.services.executions.get(removed.execution_id!)).toMatchObject({ kind: 'system', status: 'succeeded' });
    expect(containers()).toEqual([]);
    expect(apps()).toEqual([]);
    await expect(systems.delete(record.sid, { volumes: false })).rejects.toThrow(NotFoundError);
    await expect(systems.status('f'.repeat(32))).rejects.toThrow(NotFoundError);
  });

  it('after a restart, keeps a system a stopped daemon left starting, and forgets one whose app is gone', async () => {
    const { record, done } = await systems.start({ name: 'shop', compose });
    await done;
    await store.save({ ...record, status: 'starting' });
    await store.save({ ...record, sid: 'e'.repeat(32), app: `gone-${'e'.repeat(32)}`, status: 'deleting' });
    const reopened = new SqliteSystemStore(d.state.db);
    const after = new Systems(d.knowledge, d.services, new SerialQueue(), d.executions.intake, { book: new SystemBook(reopened), readyTimeoutMs: 1000 });
    expect(await after.recoverInterrupted()).toBe(2);
    expect(reopened.list().map((r) => [r.sid, r.status])).toEqual([[record.sid, 'running']]);
    expect(reopened.get(record.sid)!.warnings).toContain('the daemon stopped while this system was starting');
    expect((await after.status(record.sid)).ready).toBe(true);
  });

  it('starts and deletes without pinging an engine, fetching the hooks, re-reading other apps or restarting loops', async () => {
    const syncs: string[] = [];
    d.services.hookSource = {
      sync: async (repo) => { syncs.push(repo); return { commit: 'c0ffee' }; },
      currentCommit: () => 'c0ffee', has: async () => true, read: async () => Buffer.from(''),
    };
    const follows: string[] = [];
    d.services.hookSchedule = { follow: () => follows.push('hooks'), stop: () => undefined };
    d.services.nodeLoops = { follow: () => follows.push('nodes'), stop: () => undefined };
    await loadTopology(d.knowledge, d.services, {
      infrastructure: { cloud_driver: { type: 'static', nodes }, cpu_cores: 4, mem_units: 8, mem_unit_mb: 16, hooks_git_repo: 'https://hooks.example/repo.git' },
      apps: [{ name: 'shop', tiers: { db: { docker_image: 'busybox', on_node_scale: 'scale.sh' } } }],
    });
    const other = d.knowledge.requireDeployment().topology.tiers.get('shop_db');
    const count = (ops: string[]) => ops.reduce<Record<string, number>>((n, op) => ({ ...n, [op]: (n[op] ?? 0) + 1 }), {});
    const before = { syncs: syncs.length, follows: follows.length, calls: count(d.engines.calls.map((c) => c.op)) };
    const { record, done } = await systems.start({ name: 'web', compose: { services: { web: { image: 'busybox', 'x-ecoware': { on_node_scale: 'scale.sh' } } } } });
    await done;
    await systems.delete(record.sid, { volumes: false });
    const after = count(d.engines.calls.map((c) => c.op));
    expect([(after.ping ?? 0) - (before.calls.ping ?? 0), (after.info ?? 0) - (before.calls.info ?? 0)]).toEqual([0, 0]);
    expect(after.create - (before.calls.create ?? 0)).toBe(1);
    expect(syncs.length - before.syncs).toBe(0);
    expect(follows.length - before.follows).toBe(0);
    // The app in force before is the same, not read again.
    expect(d.knowledge.requireDeployment().topology.tiers.get('shop_db')).toBe(other);
    expect(apps()).toEqual(['shop']);
    // The history keeps the versions the user made (this one and the first); of those the start and
    // the delete made, only the newest, the one in force.
    const history = await d.state.topologies.history(10);
    expect(history.map((h) => h.made_by)).toEqual(['apps', 'user', 'user']);
    expect((history[0].document as { apps: { name: string }[] }).apps.map((a) => a.name)).toEqual(['shop']);
  });

  it('writes a system and its topology version together: a refused app leaves neither', async () => {
    d.services.hookSource = { sync: async () => ({ commit: 'c' }), currentCommit: () => 'c', has: async () => false, read: async () => Buffer.from('') };
    const versions = (await d.state.topologies.history(10)).length;
    await expect(systems.start({ name: 'web', compose: { services: { web: { image: 'busybox', 'x-ecoware': { on_node_scale: 'process:nope' } } } } }))
      .rejects.toThrow(/process definition 'nope' is not registered/);
    expect(store.list()).toEqual([]);
    expect(new SqliteSystemStore(d.state.db).list()).toEqual([]);
    expect(apps()).toEqual([]);
    expect((await d.state.topologies.history(10)).length).toBe(versions);
  });

  it('lists by namespace and name', async () => {
    const a = await systems.start({ name: 'a', namespace: 'team-a', compose: { services: { s: { image: 'busybox' } } } });
    const b = await systems.start({ name: 'b', namespace: 'team-b', compose: { services: { s: { image: 'busybox' } } } });
    await Promise.all([a.done, b.done]);
    expect(systems.list({ namespace: 'team-a' }).map((r) => r.sid)).toEqual([a.record.sid]);
    expect(systems.list({ name: 'b' }).map((r) => r.sid)).toEqual([b.record.sid]);
    expect(systems.list().length).toBe(2);
  });
});

import request from 'supertest';
import { InfrastructureError } from '../../src/domain/errors';
import { fakeDaemon } from '../support/fake-daemon';
import { shopTopology } from '../support/topologies';
import { waitFor } from '../support/wait-for';

const r = (cpu_cores: number, mem_units: number) => ({ cpu_cores, mem_units });
const NODES = [{ name: 'node1', docker: 'tcp://node1:2375' }, { name: 'node2', docker: 'tcp://node2:2375' }];

/** Rollback over fake engines: the route's answers and refusals, the on_failure policy, no loop, order. */
describe('rollback over fake engines', () => {
  let d: Awaited<ReturnType<typeof fakeDaemon>>;
  let api: ReturnType<typeof request>;
  beforeEach(async () => {
    d = await fakeDaemon({ elastic: false });
    api = request(d.app);
  });
  afterEach(async () => { await d.close(); });

  const load = async (infrastructure: Record<string, unknown> = {}) => {
    expect((await api.put('/api/topology').send(shopTopology({ nodes: NODES, infrastructure }))).status).toBe(200);
  };

  /** What the fake engines hold, by node: cores = pinned cores, units of 16 MB. */
  const engines = () => Object.fromEntries(NODES.map((n) => [n.name, Object.fromEntries(
    [...d.engines.engine(n.docker).containers.values()].map((c) => [c.flatTier, r(c.cpuset.length, c.memoryBytes / (16 * 2 ** 20))]),
  )]));

  it('returns to the placement an execution started from, as a new execution of kind rollback', async () => {
    await load();
    await api.put('/api/execute').send({ shop: { db: r(1, 2), web: r(2, 2) } });
    const first = engines();
    const second = await api.put('/api/execute').send({ shop: { db: r(2, 3), web: r(6, 4) } });
    expect(second.status).toBe(200);
    expect(engines()).not.toEqual(first);

    const res = await api.post(`/api/executions/${second.body.execution_id}/rollback`);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ kind: 'rollback', status: 'succeeded', rollback_of: second.body.execution_id });
    expect(engines()).toEqual(first);
    const record = (await api.get(`/api/executions/${res.body.execution_id}`)).body;
    expect(record).toMatchObject({ kind: 'rollback', rollback_of: second.body.execution_id });
    expect(record.notes).toBeUndefined();
    expect((await api.get('/api/executions')).body.objects[0]).toMatchObject({ id: res.body.execution_id, kind: 'rollback', rollback_of: second.body.execution_id });
  });

  it('leaves out tiers the topology no longer has, and says so in the answer and the record', async () => {
    await load();
    await api.put('/api/execute').send({ shop: { db: r(1, 2), web: r(1, 1) } });
    const removal = await api.put('/api/execute').send({ shop: { web: r(0, 0) } });
    const dbOnly = shopTopology({ nodes: NODES, tiers: { db: { max_node: 1, docker_image: 'busybox' } } });
    expect((await api.put('/api/topology').send(dbOnly)).status).toBe(200);
    const res = await api.post(`/api/executions/${removal.body.execution_id}/rollback`);
    expect(res.status).toBe(200);
    expect(res.body.notes).toEqual(['tiers no longer in the topology are left out: shop_web']);
    expect((await api.get(`/api/executions/${res.body.execution_id}`)).body.notes).toEqual(res.body.notes);
    expect(Object.values(engines()).flatMap((tiers) => Object.keys(tiers))).toEqual(['shop_db']);
  });

  it('replaces a VM an elastic cloud has released by a new one', async () => {
    const elastic = await fakeDaemon({ elastic: true });
    try {
      const elasticApi = request(elastic.app);
      expect((await elasticApi.put('/api/topology').send(shopTopology({ elastic: true }))).status).toBe(200);
      const wide = await elasticApi.put('/api/execute').send({ shop: { web: r(6, 2) } });
      expect(Object.keys(wide.body.allocation)).toHaveLength(2);
      const narrow = await elasticApi.put('/api/execute').send({ shop: { web: r(2, 1) } });
      expect(Object.keys(narrow.body.allocation)).toHaveLength(1);
      const res = await elasticApi.post(`/api/executions/${narrow.body.execution_id}/rollback`);
      expect(res.status).toBe(200);
      const released = Object.keys(wide.body.allocation).find((vm) => !narrow.body.allocation[vm])!;
      expect(res.body.notes).toEqual([`VMs no longer there are replaced by new ones: ${released}`]);
      expect(res.body.actions[0]).toEqual([expect.stringMatching(/create vm/i)]);
      const cores = elastic.cloud.vms.map((vm) => [...elastic.engines.engine(vm.engine.url).containers.values()].map((c) => c.cpuset.length));
      expect(cores.flat().sort()).toEqual(Object.values(wide.body.allocation as Record<string, { used: { shop_web: { cpu_cores: number } } }>).map((vm) => vm.used.shop_web.cpu_cores).sort());
    } finally {
      await elastic.close();
    }
  });

  it('answers 202 with the Location at once with ?wait=false', async () => {
    await load();
    const plan = await api.put('/api/execute').send({ shop: { db: r(1, 1) } });
    const res = await api.post(`/api/executions/${plan.body.execution_id}/rollback?wait=false`);
    expect(res.status).toBe(202);
    expect(res.headers.location).toBe(`/api/executions/${res.body.execution_id}`);
    const done = await waitFor(() => api.get(res.headers.location).then((x) => x.body), (e) => e.status === 'succeeded');
    expect(done).toMatchObject({ kind: 'rollback', rollback_of: plan.body.execution_id });
    expect(engines()).toEqual({ node1: {}, node2: {} });
  });

  it('refuses an unknown id (404), an execution still running (409), one that never read the cluster (409), and queues nothing', async () => {
    await load();
    expect((await api.post('/api/executions/nope/rollback')).body).toEqual({ error: "execution 'nope' not found", code: 'not_found' });
    expect((await api.post('/api/executions/nope/rollback')).status).toBe(404);

    for (const n of NODES) d.engines.engine(n.docker).delayMs = 300;
    const running = await api.put('/api/execute?wait=false').send({ shop: { db: r(1, 1) } });
    const refused = await api.post(`/api/executions/${running.body.execution_id}/rollback`);
    expect(refused.status).toBe(409);
    expect(refused.body).toMatchObject({ code: 'conflict', error: expect.stringMatching(/is still (queued|running)/) });
    await d.executions.cancel(running.body.execution_id).catch(() => undefined);
    await waitFor(() => api.get(running.headers.location).then((x) => x.body), (e) => e.status !== 'running' && e.status !== 'queued');
    for (const n of NODES) d.engines.engine(n.docker).delayMs = 0;

    // A node that does not answer when the plan's turn comes: it fails before reading the cluster.
    const withDown = await fakeDaemon({ elastic: true });
    try {
      const elasticApi = request(withDown.app);
      expect((await elasticApi.put('/api/topology').send(shopTopology({ elastic: true }))).status).toBe(200);
      withDown.cloud.failNext('maxVms', new InfrastructureError('the cloud API does not answer', 'cloud'));
      const early = await elasticApi.put('/api/execute').send({ shop: { db: r(1, 1) } });
      expect(early.body).toMatchObject({ status: 'failed', code: 'cloud' });
      const noBefore = await elasticApi.post(`/api/executions/${early.body.execution_id}/rollback`);
      expect(noBefore.status).toBe(409);
      expect(noBefore.body.error).toBe(`execution '${early.body.execution_id}' has no allocation_before to return to (it failed before reading the cluster: cloud: the cloud API does not answer)`);
      expect((await elasticApi.get('/api/executions')).body.meta.total_count).toBe(1);
    } finally {
      await withDown.close();
    }
  });

  it('with on_failure: rollback, undoes a failed plan: the failed record points to its rollback', async () => {
    await load({ on_failure: 'rollback' });
    await api.put('/api/execute').send({ shop: { db: r(1, 2), web: r(1, 1) } });
    const first = engines();
    // The web container cannot be resized after the db was: the plan fails half-way.
    for (const n of NODES) d.engines.engine(n.docker).failNext('update', new InfrastructureError('engine call timed out', 'timeout'));
    for (const n of NODES) d.engines.engine(n.docker).failNext('update', new InfrastructureError('engine call timed out', 'timeout'));
    const failed = await api.put('/api/execute').send({ shop: { db: r(2, 3), web: r(3, 2) } });
    expect(failed.status).toBe(502);
    expect(failed.body).toMatchObject({ status: 'failed', rolled_back_by: expect.any(String) });

    const rollback = await waitFor(() => api.get(`/api/executions/${failed.body.rolled_back_by}`).then((x) => x.body), (e) => e.status === 'succeeded' || e.status === 'failed');
    expect(rollback).toMatchObject({ kind: 'rollback', status: 'succeeded', rollback_of: failed.body.execution_id });
    expect(engines()).toEqual(first);
    expect((await api.get(`/api/executions/${failed.body.execution_id}`)).body.rolled_back_by).toBe(rollback.id);
  });

  it('never rolls back a failed rollback (no loop), nor a plan when the topology says stop', async () => {
    await load();
    await api.put('/api/execute').send({ shop: { db: r(1, 2) } });
    for (const n of NODES) d.engines.engine(n.docker).failNext('create', new InfrastructureError('disk full', 'engine'));
    const stopped = await api.put('/api/execute').send({ shop: { web: r(1, 1) } });
    expect(stopped.body.status).toBe('failed');
    expect(stopped.body.rolled_back_by).toBeUndefined();

    await load({ on_failure: 'rollback' });
    // The plan resizes db, then fails on creating web; its rollback fails on sizing db back.
    for (const n of NODES) d.engines.engine(n.docker).failNext('create', new InfrastructureError('disk full', 'engine'));
    d.bus.subscribe((e) => {
      if (e.type !== 'execution' || e.kind !== 'rollback' || e.status !== 'running') return;
      for (const n of NODES) d.engines.engine(n.docker).failNext('update', new InfrastructureError('engine call timed out', 'timeout'));
    });
    const failed = await api.put('/api/execute').send({ shop: { db: r(2, 3), web: r(1, 1) } });
    expect(failed.body).toMatchObject({ status: 'failed', rolled_back_by: expect.any(String) });
    expect(failed.body.steps[0][0]).toMatchObject({ status: 'succeeded', description: expect.stringMatching(/update container 'shop_db'/) });
    await d.queue.idle();
    const kinds = (await api.get('/api/executions')).body.objects.map((e: { kind: string; status: string }) => `${e.kind} ${e.status}`);
    expect(kinds).toEqual(['rollback failed', 'plan failed', 'plan failed', 'plan succeeded']);
    const rollback = (await api.get(`/api/executions/${failed.body.rolled_back_by}`)).body;
    expect(rollback.rolled_back_by).toBeUndefined();
    expect(rollback.error.message).toMatch(/update container 'shop_db'.*timed out/);
  });

  it('rolls back before a plan already waiting, so that plan is not undone', async () => {
    await load({ on_failure: 'rollback' });
    await api.put('/api/execute').send({ shop: { db: r(1, 2) } });
    for (const n of NODES) d.engines.engine(n.docker).failNext('create', new InfrastructureError('disk full', 'engine'));
    const failing = await api.put('/api/execute?wait=false').send({ shop: { db: r(2, 2), web: r(1, 1) } });
    const waiting = await api.put('/api/execute?wait=false').send({ shop: { web: r(2, 1) } });
    const last = await waitFor(() => api.get(waiting.headers.location).then((x) => x.body), (e) => e.status === 'succeeded' || e.status === 'failed');
    expect(last.status).toBe('succeeded');
    const failed = (await api.get(failing.headers.location)).body;
    const rollback = (await api.get(`/api/executions/${failed.rolled_back_by}`)).body;
    expect(rollback.status).toBe('succeeded');
    expect(Date.parse(failed.finished_at)).toBeLessThanOrEqual(Date.parse(rollback.started_at));
    expect(Date.parse(rollback.finished_at)).toBeLessThanOrEqual(Date.parse(last.started_at));
    // The waiting plan applied over the rolled-back state: db as before the failed plan, web as asked.
    expect(Object.values(engines()).reduce((all, tiers) => ({ ...all, ...tiers }), {})).toEqual({ shop_db: r(1, 2), shop_web: r(2, 1) });
  });
});

import request from 'supertest';
import { InfrastructureError } from '../../src/domain/errors';
import { buildApp } from '../../src/http/app';
import { fakeDaemon } from '../support/fake-daemon';
import { shopTopology } from '../support/topologies';

/** The HTTP API over fake engines: what an operator sees, without a Docker engine. */
describe('HTTP API over fake engines', () => {
  let daemon: Awaited<ReturnType<typeof fakeDaemon>>;
  beforeEach(async () => { daemon = await fakeDaemon({ elastic: false }); });
  afterEach(async () => { await daemon.close(); });

  it('applies a plan, answers with the allocation of the record, and lists it with its kind', async () => {
    const api = request(daemon.app);
    expect((await api.put('/api/topology').send(shopTopology())).status).toBe(200);
    const res = await api.put('/api/execute').send({ shop: { db: { cpu_cores: 1, mem_units: 2 }, web: { cpu_cores: 1, mem_units: 1 } } });
    expect(res.body.error).toBeUndefined();
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ status: 'succeeded', kind: 'plan' });
    expect(res.body.allocation.node1.used).toEqual({ shop_db: { cpu_cores: 1, mem_units: 2 }, shop_web: { cpu_cores: 1, mem_units: 1 } });
    const list = await api.get('/api/executions');
    expect(list.body.objects[0]).toMatchObject({ id: res.body.execution_id, kind: 'plan', status: 'succeeded' });
    const record = await api.get(`/api/executions/${res.body.execution_id}`);
    expect(record.body).toMatchObject({ kind: 'plan', status: 'succeeded' });
    expect(record.body.allocation_after.node1.used).toEqual(res.body.allocation.node1.used);
  });

  it('answers what is wrong with {error, code} and the status of its code', async () => {
    const api = request(daemon.app);
    expect((await api.get('/api/allocation')).body).toMatchObject({ code: 'conflict' });
    expect((await api.get('/api/allocation')).status).toBe(409);
    await api.put('/api/topology').send(shopTopology());
    const unknown = await api.get('/api/executions/nope');
    expect(unknown.status).toBe(404);
    expect(unknown.body).toEqual({ error: "execution 'nope' not found", code: 'not_found' });
    const bad = await api.put('/api/execute').send({ shop: { cache: { cpu_cores: 1, mem_units: 1 } } });
    expect(bad.status).toBe(400);
    expect(bad.body.code).toBe('invalid');
    const tooBig = await api.put('/api/execute').send({ shop: { web: { cpu_cores: 9, mem_units: 1 } } });
    expect(tooBig.status).toBe(422);
    expect(tooBig.body).toMatchObject({ code: 'no_solution', status: 'failed', kind: 'plan' });
  });

  it('refuses a true/false query parameter that is neither with 400 naming it, and runs nothing', async () => {
    const api = request(daemon.app);
    await api.put('/api/topology').send(shopTopology());
    const recorded = (await api.get('/api/executions')).body.meta.total_count;
    const published = daemon.events.length;
    for (const [query, field] of [['wait=maybe', 'wait'], ['coalesce=nope', 'coalesce'], ['wait=false&wait=true', 'wait']]) {
      const res = await api.put(`/api/execute?${query}`).send({ shop: { db: { cpu_cores: 1, mem_units: 1 } } });
      expect(res.status).toBe(400);
      expect(res.body).toMatchObject({ code: 'invalid', field });
      expect(res.body.error).toContain(field);
    }
    const rollback = await api.post('/api/executions/nope/rollback?wait=later');
    expect(rollback.status).toBe(400);
    expect(rollback.body).toMatchObject({ code: 'invalid', field: 'wait' });
    expect((await api.get('/api/executions')).body.meta.total_count).toBe(recorded);
    expect(daemon.events.length).toBe(published);
    expect((await api.get('/api/allocation')).body.node1.used).toEqual({});
  });

  it('refuses an unknown or repeated ?type= of the event stream with 400 naming it, before the stream starts', async () => {
    const { knowledge, services, queue, executions, bus } = daemon;
    const api = request(buildApp({ knowledge, services, queue, executions, events: bus }));
    const listeners = bus.listenerCount;
    for (const query of ['type=execution,nodes', 'type=', 'type=node&type=action']) {
      const res = await api.get(`/api/events?${query}`);
      expect(res.status).toBe(400);
      expect(res.headers['content-type']).toMatch(/^application\/json/);
      expect(res.body).toMatchObject({ code: 'invalid', field: 'type' });
      expect(res.body.error).toContain('type');
    }
    expect(bus.listenerCount).toBe(listeners);
  });

  it('answers a failed action with 502, and the record keeps the code of what failed', async () => {
    const api = request(daemon.app);
    await api.put('/api/topology').send(shopTopology());
    daemon.engines.engine('tcp://node1:2375').failNext('create', new InfrastructureError('engine call timed out after 30000 ms', 'timeout'));
    const res = await api.put('/api/execute').send({ shop: { db: { cpu_cores: 1, mem_units: 1 } } });
    expect(res.status).toBe(502);
    expect(res.body).toMatchObject({ code: 'action_failed', status: 'failed' });
    expect(res.body.steps[0][0]).toMatchObject({ status: 'failed', error_code: 'timeout' });
    expect(res.body.allocation.node1.used).toEqual({});
  });
});

import request from 'supertest';
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
});

import request from 'supertest';
import { Knowledge, Services } from '../../src/use-cases/cluster/knowledge';
import { buildApp } from '../../src/http/app';
import { LeaderView } from '../../src/http/standby-gate';
import { readOnlyCalls } from '../../src/drivers/lead-guard';
import { StaticCloudDriver } from '../../src/drivers/static/static-cloud-driver';
import { FakeContainerRuntime } from '../../src/drivers/fake/fake-container-runtime';
import { ContainerRuntimeFactory } from '../../src/ports/container-runtime';
import { PlanExecutions } from '../../src/use-cases/execution/plan-executions';
import { SerialQueue } from '../../src/use-cases/execution/serial-queue';
import { StandbyView } from '../../src/use-cases/daemon/standby-view';
import { EventBus } from '../../src/domain/events';
import { fakeDaemon } from '../support/fake-daemon';
import { shopTopology } from '../support/topologies';

const LEADER: LeaderView = { holder: 'exec-1:42:abcdef', url: 'http://exec-1.example:8000', since: '2026-12-01T00:00:00.000Z', epoch: 3 };

/**
 * The standby's app (SPEC §12) over fake engines and the leader's state database: every read
 * answers as the leader's does, from the stores and from a view of the fleet read through clients
 * that can only read; every change is answered by the role gate and changes nothing.
 */
describe('a standby app over the leader\'s state', () => {
  let leader: Awaited<ReturnType<typeof fakeDaemon>>;
  beforeEach(async () => {
    leader = await fakeDaemon({ elastic: false });
    const api = request(leader.app);
    expect((await api.put('/api/topology').send(shopTopology())).status).toBe(200);
    expect((await api.put('/api/execute').send({ shop: { db: { cpu_cores: 1, mem_units: 2 }, web: { cpu_cores: 2, mem_units: 1 } } })).status).toBe(200);
  });
  afterEach(async () => { await leader.close(); });

  /** A standby over the same stores and engines, built as the daemon builds it. */
  async function standby(current: LeaderView | undefined) {
    const runtimeFor: ContainerRuntimeFactory = (vm) => readOnlyCalls(leader.engines.runtimeFor(vm));
    const services: Services = {
      ...leader.services,
      runtimeFor,
      cloudFor: (config, vmSize) => readOnlyCalls(new StaticCloudDriver(config as never, vmSize, runtimeFor)),
    };
    const knowledge = new Knowledge();
    const queue = new SerialQueue();
    const view = new StandbyView(knowledge, services);
    await view.start();
    // It reads the engines only when asked: once here, before the routes answer.
    await view.fresh();
    await view.stop();
    const app = buildApp({
      knowledge, services, queue, executions: new PlanExecutions(knowledge, services, queue, new EventBus()),
      role: 'standby', leader: async () => current,
      readiness: { checks: () => ({ leader: { ok: false, detail: 'standing by' } }) },
    });
    return { app, knowledge };
  }

  it.each(['/api/executions', '/api/topology', '/api/allocation', '/api/nodes', '/api/nodes/node1', '/api/process_definition', '/api/inspect'])(
    'answers GET %s with the body the leader gives', async (route) => {
      const { app } = await standby(LEADER);
      const [fromLeader, fromStandby] = await Promise.all([request(leader.app).get(route), request(app).get(route)]);
      expect(fromStandby.status).toBe(fromLeader.status);
      expect(fromStandby.body).toEqual(fromLeader.body);
    });

  it('answers one execution with its steps, as the leader does', async () => {
    const { app } = await standby(LEADER);
    const id = (await request(leader.app).get('/api/executions')).body.objects[0].id as string;
    const fromStandby = await request(app).get(`/api/executions/${id}`);
    expect(fromStandby.body).toEqual((await request(leader.app).get(`/api/executions/${id}`)).body);
    expect(fromStandby.body.steps.length).toBeGreaterThan(0);
  });

  it.each([
    ['put', '/api/execute?wait=false'], ['post', '/api/executor'], ['put', '/api/topology'], ['put', '/api/translate'],
    ['post', '/api/nodes/node1/cordon'], ['post', '/api/nodes/node1/drain'], ['delete', '/api/process_definition/x'], ['post', '/api/systems'],
  ] as const)('answers %s %s with 307 to the leader, and changes nothing', async (method, route) => {
    const { app, knowledge } = await standby(LEADER);
    const calls = leader.engines.calls.length;
    const recorded = (await request(leader.app).get('/api/executions')).body.meta.total_count;
    const res = await request(app)[method](route).send({ shop: { db: { cpu_cores: 2, mem_units: 2 } } });
    expect(res.status).toBe(307);
    expect(res.headers.location).toBe(`${LEADER.url}${route}`);
    expect(res.body).toMatchObject({ code: 'not_leader', leader: LEADER });
    expect((await request(leader.app).get('/api/executions')).body.meta.total_count).toBe(recorded);
    expect(knowledge.nodes.isCordoned('node1')).toBe(false);
    expect(leader.engines.calls.length).toBe(calls);
  });

  it('answers a change with 503 and Retry-After when no daemon leads, or the leader advertises no URL', async () => {
    for (const current of [undefined, { ...LEADER, url: null }]) {
      const { app } = await standby(current);
      const res = await request(app).put('/api/execute').send({ shop: { db: { cpu_cores: 2, mem_units: 2 } } });
      expect([res.status, res.headers['retry-after'], res.body.code]).toEqual([503, '2', 'not_leader']);
    }
  });

  it('says it stands by on /api/leader and /readyz, and serves the page', async () => {
    const { app } = await standby(LEADER);
    expect((await request(app).get('/api/leader')).body).toEqual({ leader: LEADER, self: 'standby' });
    const ready = await request(app).get('/readyz');
    expect([ready.status, ready.body.role]).toEqual([503, 'standby']);
    expect((await request(leader.app).get('/readyz')).body.role).toBe('leader');
    // The page and its session answer on a standby too (the session changes no state).
    expect((await request(app).get('/ui/session')).status).toBe(200);
  });

  it('read the fleet without a single call that changes anything', async () => {
    const before = leader.engines.calls.length;
    await standby(LEADER);
    const made = leader.engines.calls.slice(before).map((c) => c.op);
    expect(made.length).toBeGreaterThan(0);
    expect(made.filter((op) => !['ping', 'info', 'hostAddress', 'listManaged', 'listManagedStates'].includes(op))).toEqual([]);
  });
});

describe('readOnlyCalls', () => {
  it('passes reads through and refuses every change before it reaches the engine, capabilities included', async () => {
    const engine = new FakeContainerRuntime();
    const reading = readOnlyCalls(engine);
    await reading.ping();
    expect(await reading.listManaged()).toEqual([]);
    expect(await reading.volumes!.list()).toEqual([]);
    const made = engine.calls.length;
    expect(() => reading.remove('a_db')).toThrow(/standby changes nothing.*remove/);
    expect(() => reading.update('a_db', { cpuset: [0], memoryMb: 16 })).toThrow(expect.objectContaining({ code: 'cancelled' }));
    expect(() => reading.volumes!.create({ name: 'v', driver: 'local', driverOpts: {}, labels: {} })).toThrow(/volumes\.create/);
    expect(engine.calls.length).toBe(made);
  });
});

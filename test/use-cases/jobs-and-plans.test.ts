import request from 'supertest';
import { loadTopology } from '../../src/use-cases/topology/load-topology';
import { NodeAdmin } from '../../src/use-cases/nodes/node-admin';
import { Reconciler } from '../../src/use-cases/nodes/reconcile';
import { rollBackExecution } from '../../src/use-cases/execution/rollback-execution';
import { fakeDaemon } from '../support/fake-daemon';
import { shopTopology } from '../support/topologies';
import { TestJobs } from '../support/test-jobs';

const ENGINE = 'tcp://node1:2375';

/** Running jobs' cores and memory are theirs: plans, repairs and rollbacks work around them and never take them. */
describe('plans beside running jobs', () => {
  let d: Awaited<ReturnType<typeof fakeDaemon>>;
  let jobs: TestJobs;
  const load = (infrastructure: Record<string, unknown> = {}) =>
    loadTopology(d.knowledge, d.services, shopTopology({ nodes: [{ name: 'node1', docker: ENGINE }], infrastructure }));
  const cpusets = () => [...d.engines.engine(ENGINE).containers.values()].map((c) => c.cpuset);

  beforeEach(async () => {
    d = await fakeDaemon({ elastic: false });
    jobs = new TestJobs();
    d.services.jobs = jobs;
  });
  afterEach(async () => { await d.close(); });

  it('gives the tiers the cores a job leaves, never one of its cpuset', async () => {
    await load();
    jobs.hold({ job: '01JOB', vm: 'node1', cpuset: [2, 3], memoryMb: 32 });
    const done = await (await d.executions.submit({ shop_web: { cpu_cores: 2, mem_units: 2 } })).done;
    expect(done.status).toBe('succeeded');
    expect(cpusets()).toEqual([[0, 1]]);
    expect(jobs.pokes).toBe(1);
  });

  it('moves a tier off cores a job holds when it changes', async () => {
    await load();
    // As if a job had been started on cores the record no longer gave a tier: the next plan takes the tier off them.
    expect((await (await d.executions.submit({ shop_web: { cpu_cores: 2, mem_units: 2 } })).done).status).toBe('succeeded');
    expect(cpusets()).toEqual([[0, 1]]);
    jobs.hold({ job: '01JOB', vm: 'node1', cpuset: [1] });
    expect((await (await d.executions.submit({ shop_web: { cpu_cores: 1, mem_units: 2 } })).done).status).toBe('succeeded');
    expect(cpusets()).toEqual([[0]]);
  });

  it('fails a plan that needs the job\'s cores with held_by_jobs naming it, and the preview says the same', async () => {
    await load();
    jobs.hold({ job: '01JOB', vm: 'node1', cpuset: [2, 3], memoryMb: 32, deadline: '2030-01-01T00:00:00.000Z' });
    const res = await request(d.app).put('/api/execute').send({ shop: { web: { cpu_cores: 3, mem_units: 2 } } });
    expect(res.status).toBe(422);
    expect(res.body).toMatchObject({ code: 'held_by_jobs', error: 'the plan needs 1 core that running jobs hold: job 01JOB on node1 (2 cores, 32 MB, until 2030-01-01T00:00:00.000Z)' });
    expect(cpusets()).toEqual([]);

    const preview = await request(d.app).put('/api/translate').send({ shop: { web: { cpu_cores: 3, mem_units: 2 } } });
    expect(preview.status).toBe(422);
    expect(preview.body).toMatchObject({ code: 'held_by_jobs', error: expect.stringContaining('job 01JOB on node1') });

    // A plan no node could meet even without the job is no_solution, as before.
    const never = await request(d.app).put('/api/execute').send({ shop: { web: { cpu_cores: 9, mem_units: 2 } } });
    expect(never.status).toBe(422);
    expect(never.body.code).not.toBe('held_by_jobs');
  });

  it('counts a job\'s memory: a plan needing it fails naming the memory units', async () => {
    await load();
    // 8 units of 16 MB; the job holds 100 MB, 7 units.
    jobs.hold({ job: '01MEM', vm: 'node1', cpuset: [3], memoryMb: 100 });
    const done = await (await d.executions.submit({ shop_web: { cpu_cores: 1, mem_units: 2 } })).done;
    expect(done.status).toBe('failed');
    expect(done.error).toMatchObject({ code: 'held_by_jobs', message: expect.stringMatching(/needs 1 memory unit that running jobs hold: job 01MEM on node1/) });
  });

  it('waits for the job within job_yield_s, then decides again and succeeds', async () => {
    await load({ job_yield_s: 5 });
    jobs.hold({ job: '01JOB', vm: 'node1', cpuset: [2, 3] });
    const { done } = await d.executions.submit({ shop_web: { cpu_cores: 4, mem_units: 2 } });
    setTimeout(() => jobs.end('01JOB'), 200);
    const finished = await done;
    expect(finished.status).toBe('succeeded');
    expect(finished.notes).toEqual([expect.stringContaining('waiting up to 5 s (job_yield_s) for running jobs to end: the plan needs 2 cores that running jobs hold: job 01JOB on node1')]);
    expect(cpusets()).toEqual([[0, 1, 2, 3]]);
  });

  it('fails once job_yield_s has passed with the job still running', async () => {
    await load({ job_yield_s: 0.3 });
    jobs.hold({ job: '01JOB', vm: 'node1', cpuset: [2, 3] });
    const started = Date.now();
    const finished = await (await d.executions.submit({ shop_web: { cpu_cores: 4, mem_units: 2 } })).done;
    expect(Date.now() - started).toBeGreaterThanOrEqual(300);
    expect(finished.error).toMatchObject({ code: 'held_by_jobs', message: expect.stringContaining('waited 0.3 s, job_yield_s') });
    // The queue goes on: the next plan is decided.
    expect((await (await d.executions.submit({ shop_web: { cpu_cores: 2, mem_units: 2 } })).done).status).toBe('succeeded');
  });

  it('repairs drift on cores jobs do not hold', async () => {
    await load();
    expect((await (await d.executions.submit({ shop_web: { cpu_cores: 2, mem_units: 2 } })).done).status).toBe('succeeded');
    const engine = d.engines.engine(ENGINE);
    const [container] = engine.containers.values();
    await engine.remove(container.id);
    jobs.hold({ job: '01JOB', vm: 'node1', cpuset: [0, 1] });
    const reconciler = new Reconciler(d.knowledge, d.services, d.queue, d.executions.intake);
    const repaired = await reconciler.pass();
    expect(repaired).toMatchObject({ kind: 'reconcile', status: 'succeeded' });
    expect(cpusets()).toEqual([[2, 3]]);
  });

  it('rolls back onto cores jobs do not hold, and refuses a rollback that needs theirs', async () => {
    await load();
    const rollBack = async (id: string) => (await rollBackExecution(id, { knowledge: d.knowledge, executions: d.executions.intake, store: d.services.executions })).done;
    expect((await (await d.executions.submit({ shop_web: { cpu_cores: 2, mem_units: 2 } })).done).status).toBe('succeeded');
    const shrink = await (await d.executions.submit({ shop_web: { cpu_cores: 1, mem_units: 2 } })).done;
    expect(cpusets()).toEqual([[0]]);
    jobs.hold({ job: '01JOB', vm: 'node1', cpuset: [1, 2] });
    expect(await rollBack(shrink.id)).toMatchObject({ kind: 'rollback', status: 'succeeded' });
    expect(cpusets()).toEqual([[0, 3]]);

    jobs.end('01JOB');
    const again = await (await d.executions.submit({ shop_web: { cpu_cores: 1, mem_units: 2 } })).done;
    expect(cpusets()).toEqual([[0]]);
    jobs.hold({ job: '01BIG', vm: 'node1', cpuset: [1, 2, 3] });
    expect((await rollBack(again.id)).error).toMatchObject({ code: 'held_by_jobs', message: expect.stringContaining('needs 1 core that running jobs hold: job 01BIG on node1 (3 cores') });
    expect(cpusets()).toEqual([[0]]);
  });

  it('drains the tiers off a node and keeps the node while its jobs run', async () => {
    const topology = shopTopology({ elastic: true });
    d = await fakeDaemon({ elastic: true });
    d.services.jobs = jobs;
    await loadTopology(d.knowledge, d.services, topology);
    expect((await (await d.executions.submit({ shop_web: { cpu_cores: 6, mem_units: 2 } })).done).status).toBe('succeeded');
    const vms = Object.keys(d.knowledge.requireDeployment().cluster);
    expect(vms).toHaveLength(2);
    const [vm] = vms.filter((name) => d.knowledge.vm(name)!.containers.shop_web.resources.cpu_cores < 4);
    const free = [0, 1, 2, 3].filter((c) => !d.knowledge.vm(vm)!.containers.shop_web.cpuset.includes(c));
    jobs.hold({ job: '01JOB', vm, cpuset: free.slice(0, 1) });

    const admin = new NodeAdmin(d.knowledge, d.services, d.executions.intake, d.bus);
    const preview = await admin.previewDrain(vm);
    expect(preview.jobs).toEqual([{ job: '01JOB', template: 'batch', cores: 1, memory_mb: 16 }]);
    const drained = await (await admin.drain(vm)).done;
    expect(drained).toMatchObject({ kind: 'drain', notes: [expect.stringContaining(`jobs keep running on ${vm}`)] });
    expect(d.knowledge.vm(vm)!.containers).toEqual({});
    expect(d.cloud.deleteCalls).toEqual([]);
  });
});

import { harness, Harness, until } from '../support/jobs-harness';

/** A job never starts on what the execution under way gives tiers, even before their containers exist. */
describe('jobs beside an execution under way', () => {
  let h: Harness;
  beforeEach(async () => {
    h = await harness();
    h.d.services.jobs = h.scheduler;
  });
  afterEach(async () => { await h.close(); });

  it('waits while the cores are reserved for tiers, and starts once the execution ended', async () => {
    await h.template('count');
    const all = { cores: new Set([0, 1]), coreCount: 2, units: 2 };
    h.d.knowledge.reserveForTiers({ vms: new Set(['n1', 'n2']), byVm: new Map([['n1', all], ['n2', all]]) });
    const job = await h.dispatch({ template: 'count' });
    await h.scheduler.settled();
    expect(await h.job(job.id)).toMatchObject({ status: 'queued', reason: expect.stringMatching(/^no ready node has 1 free core/) });
    expect(h.tasks.runningTasks()).toEqual([]);

    h.d.knowledge.releaseTierReservation();
    h.scheduler.poke();
    await until(() => h.job(job.id), (j) => j.status === 'running');
  });

  it('takes no node the execution under way is creating', async () => {
    await h.template('count');
    h.d.knowledge.reserveForTiers({ vms: new Set(['n2']), byVm: new Map() });
    const job = await h.dispatch({ template: 'count' });
    await until(() => h.job(job.id), (j) => j.status === 'running');
    expect((await h.job(job.id)).attempts[0].node).toBe('n2');
  });

  it('a plan and a job dispatched together never share a core', async () => {
    await h.template('count', {});
    // Four cores in all: two for the tiers, two for the jobs, whichever comes first.
    const plan = h.d.executions.submit({ shop_web: { cpu_cores: 1, mem_units: 2 }, shop_db: { cpu_cores: 1, mem_units: 1 } });
    const jobs = await Promise.all([0, 1].map(() => h.dispatch({ template: 'count' })));
    expect((await (await plan).done).status).toBe('succeeded');
    await h.scheduler.settled();
    const { cluster } = h.d.knowledge.requireDeployment();
    for (const t of h.tasks.runningTasks()) {
      const node = t.engine.includes('n1') ? 'n1' : 'n2';
      const tierCores = Object.values(cluster[node].containers).flatMap((c) => c.cpuset);
      expect(t.task.cpuset.filter((c) => tierCores.includes(c))).toEqual([]);
    }
    expect(h.tasks.runningTasks()).toHaveLength(jobs.length);
  });
});

import { testImage } from '../support/docker';
import { engineClient } from '../support/engines';
import { Api, PoolDaemon, startPoolDaemon } from '../support/pool-daemon';
import { CrashableEngine, startCrashableEngine } from '../support/pool-engines';
import { waitUntil } from '../support/wait-for';

/**
 * Jobs on two real engines (SPEC §10): a pool of 2 nodes with 2 cores each, asked through the API
 * and checked by asking the engines.
 */
describe('jobs on real engines', () => {
  let pool: PoolDaemon<CrashableEngine>;
  let engines: CrashableEngine[];
  let api: Api;
  /** Every job container name either engine listed at any sample. */
  const everSeen = new Set<string>();

  const jobContainers = async (options: { all?: boolean } = {}) => {
    const lists = await Promise.all(engines.map(async (e) => (await engineClient(e).listContainers({ all: options.all ?? false, filters: { label: ['ecoware.job'] } }).catch(() => []))));
    const names = lists.flat().map((c) => c.Names[0].slice(1));
    for (const n of names) everSeen.add(n);
    return names;
  };
  const job = async (id: string) => (await api.get(`/api/jobs/${id}`).expect(200)).body;
  const waitDone = async (id: string, seconds = 120) => (await api.get(`/api/jobs/${id}?wait=${seconds}`).expect(200)).body;
  const putTemplate = async (name: string, body: Record<string, unknown>) => {
    await api.put(`/api/job-templates/${name}`).send({ image: testImage(), ...body }).expect((r) => { if (r.status !== 201 && r.status !== 200) throw new Error(JSON.stringify(r.body)); });
    return waitUntil(`template ${name} validated`, async () => {
      const t = (await api.get(`/api/job-templates/${name}`)).body;
      return t.status === 'validating' ? undefined : t;
    }, 30_000);
  };
  const dispatch = async (body: Record<string, unknown>) => (await api.post('/api/jobs').send(body).expect(202)).body;

  beforeAll(async () => {
    pool = await startPoolDaemon({
      startEngine: startCrashableEngine, engineIndexes: [31, 32],
      daemonConfig: { solverTimeLimitMs: 5000 },
      infrastructure: { cpu_cores: 2, mem_units: 4, mem_unit_mb: 32, node_health_interval_s: 1, node_lost_after_s: 3, reconcile_interval_s: 0 },
      apps: [],
    });
    ({ engines, api } = pool);
  }, 180_000);

  // The test's job containers go with the engines.
  afterAll(() => pool?.close());

  it('runs 20 jobs at most 4 at a time on 4 free cores, the rest queued with a reason; all succeed with output and logs', async () => {
    const template = await putTemplate('count', {
      command: ['/bin/sh', '-c', 'mkdir -p /ecoware; sleep 1; echo "out-$1"; echo "err-$1" >&2; echo "result $1" > /ecoware/output', 'sh'],
    });
    expect(template.status).toBe('ready');
    const ids: string[] = [];
    const answers: { status: string; reason?: string; position?: number }[] = [];
    for (let i = 0; i < 20; i++) {
      const a = await dispatch({ template: 'count', input: String(i) });
      ids.push(a.id);
      answers.push(a);
    }
    expect(answers.some((a) => a.status === 'queued' && /^no ready node has 1 free core/.test(a.reason ?? '') && (a.position ?? 0) >= 1)).toBe(true);
    let most = 0;
    for (;;) {
      most = Math.max(most, (await jobContainers()).length);
      const open = (await api.get('/api/jobs?status=queued,starting,running&template=count&limit=100')).body.jobs.length;
      if (open === 0) break;
      await new Promise((r) => setTimeout(r, 150));
    }
    expect(most).toBeLessThanOrEqual(4);
    expect(most).toBeGreaterThanOrEqual(2);
    for (let i = 0; i < 20; i++) {
      const j = await job(ids[i]);
      expect(j).toMatchObject({ status: 'succeeded', exit_code: 0, output: `result ${i}\n`, attempts: [{ n: 1, reason: 'exit', exit_code: 0 }] });
      expect((await api.get(`/api/jobs/${ids[i]}/logs?stream=stdout`)).text).toBe(`out-${i}\n`);
      expect((await api.get(`/api/jobs/${ids[i]}/logs?stream=stderr`)).text).toBe(`err-${i}\n`);
    }
    // Their containers are removed once recorded.
    expect((await jobContainers({ all: true })).filter((n) => ids.some((id) => n.includes(id)))).toEqual([]);
  }, 240_000);

  it('cancels a queued job, which never gets a container, and a running one, whose container goes', async () => {
    await putTemplate('sleepy', { command: ['/bin/sh', '-c', 'trap "exit 143" TERM; sleep 60 & wait'], cpu_cores: 1 });
    const running: string[] = [];
    for (let i = 0; i < 4; i++) running.push((await dispatch({ template: 'sleepy' })).id);
    const queued = await dispatch({ template: 'sleepy' });
    expect(queued.status).toBe('queued');
    await waitUntil('4 running', async () => ((await jobContainers()).length === 4 ? true : undefined), 60_000);
    expect((await api.post(`/api/jobs/${queued.id}/cancel`).expect(202)).body).toEqual({ id: queued.id, status: 'cancelled' });
    const cancelAt = Date.now();
    await api.post(`/api/jobs/${running[0]}/cancel`).expect(202);
    expect(await waitDone(running[0], 60)).toMatchObject({ status: 'cancelled', attempts: [{ reason: 'cancelled' }] });
    const cancelMs = Date.now() - cancelAt;
    await waitUntil('the cancelled container gone', async () => ((await jobContainers({ all: true })).some((n) => n.includes(running[0])) ? undefined : true), 30_000);
    console.log(`cancel of a running job (SIGTERM handled): request -> cancelled ${cancelMs} ms`);
    // The cores freed go to no cancelled job.
    await new Promise((r) => setTimeout(r, 1_500));
    await jobContainers({ all: true });
    expect([...everSeen].filter((n) => n.includes(queued.id))).toEqual([]);
    expect(await job(queued.id)).toMatchObject({ status: 'cancelled', attempts: [] });
    for (const id of running.slice(1)) await api.post(`/api/jobs/${id}/cancel`).expect(202);
    for (const id of running.slice(1)) expect((await waitDone(id, 60)).status).toBe('cancelled');
  }, 180_000);

  it('stops a job past its timeout: timed_out', async () => {
    await putTemplate('late', { command: ['/bin/sh', '-c', 'trap "exit 143" TERM; sleep 60 & wait'], timeout_s: 1 });
    const { id } = await dispatch({ template: 'late' });
    const done = await waitDone(id, 60);
    expect(done).toMatchObject({ status: 'timed_out', reason: 'timeout', attempts: [{ reason: 'timeout' }] });
    const overshootMs = Date.parse(done.attempts[0].ended_at) - Date.parse(done.attempts[0].deadline);
    console.log(`timeout overshoot (deadline -> attempt recorded ended): ${overshootMs} ms`);
    // Removed once its result is recorded.
    await waitUntil('the timed-out container gone', async () => ((await jobContainers({ all: true })).some((n) => n.includes(id)) ? undefined : true), 30_000);
  }, 120_000);

  it('re-attaches to running jobs after a daemon restart, running none twice', async () => {
    await putTemplate('steady', { command: ['/bin/sh', '-c', 'mkdir -p /ecoware; echo start; sleep 6; echo end; echo "done $1" > /ecoware/output', 'sh'] });
    const ids = [(await dispatch({ template: 'steady', input: 'a' })).id, (await dispatch({ template: 'steady', input: 'b' })).id];
    await waitUntil('both running', async () => ((await Promise.all(ids.map(job))).every((j) => j.status === 'running') ? true : undefined), 60_000);
    await pool.restartDaemon();
    api = pool.api;
    for (const [i, id] of ids.entries()) {
      const done = await waitDone(id, 60);
      expect(done).toMatchObject({ status: 'succeeded', output: `done ${'ab'[i]}\n`, attempts: [{ n: 1, reason: 'exit' }] });
      expect((await api.get(`/api/jobs/${id}/logs`)).text).toBe('start\nend\n');
    }
    expect([...everSeen].filter((n) => ids.some((id) => n.includes(id))).every((n) => n.endsWith('-1'))).toBe(true);
  }, 180_000);

  it('retries on the other node a job whose engine was killed under it', async () => {
    await putTemplate('hardy', { command: ['/bin/sh', '-c', 'sleep 8; echo ok'], retries: 1, cpu_cores: 2 });
    const { id } = await dispatch({ template: 'hardy' });
    const running = await waitUntil('running', async () => { const j = await job(id); return j.status === 'running' ? j : undefined; }, 60_000);
    const node = running.attempts[0].node as string;
    const engine = engines[Number(node.slice(1)) - 1];
    await engine.crash();
    try {
      await waitUntil(`node ${node} lost`, async () => ((await api.get('/api/nodes')).body.find((n: { name: string }) => n.name === node)?.health === 'unreachable' ? true : undefined), 30_000);
      const done = await waitDone(id, 90);
      expect(done).toMatchObject({ status: 'succeeded', attempts: [{ n: 1, node, reason: 'node_lost' }, { n: 2, reason: 'exit', exit_code: 0 }] });
      expect(done.attempts[1].node).not.toBe(node);
    } finally {
      await engine.revive();
    }
  }, 180_000);
});

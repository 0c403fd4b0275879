import { DomainError, UnsatisfiableError } from '../../src/domain/errors';
import { Job } from '../../src/domain/job';
import { harness, Harness, until } from '../support/jobs-harness';

const containerOf = (job: Job, n = job.attempts.length) => `ecoware-job-${job.id}-${n}`;

describe('the job queue over fake engines', () => {
  let h: Harness;
  beforeEach(async () => { h = await harness(); });
  afterEach(async () => { await h.close(); });

  it('runs as many jobs as there are free cores, queues the rest with the reason and position', async () => {
    await h.template('count');
    const jobs: Job[] = [];
    for (let i = 0; i < 6; i++) jobs.push(await h.dispatch({ template: 'count', input: String(i) }));
    await until(() => h.tasks.runningTasks().length, (n) => n === 4);
    const fifth = await h.job(jobs[4].id);
    expect(fifth).toMatchObject({ status: 'queued', position: 1, reason: 'no ready node has 1 free core and 1 free memory unit: n1 has 0 free cores, n2 has 0 free cores' });
    expect((await h.job(jobs[5].id)).position).toBe(2);
    // The cores of running jobs never overlap on a node.
    const byNode = new Map<string, number[]>();
    for (const t of h.tasks.runningTasks()) byNode.set(t.engine, [...(byNode.get(t.engine) ?? []), ...t.task.cpuset]);
    for (const cores of byNode.values()) expect(new Set(cores).size).toBe(cores.length);
    // Input arrives as $1.
    expect(h.tasks.find(containerOf(await h.job(jobs[0].id)))!.task.spec.argv).toEqual(['work', '0']);

    h.tasks.finish(containerOf(await h.job(jobs[0].id)), 0, { output: 'zero' });
    expect(await h.jobs.wait(jobs[0].id, 5)).toMatchObject({ status: 'succeeded', output: 'zero', exit_code: 0 });
    await until(() => h.job(jobs[4].id), (j) => j.status === 'running');
    expect(h.scheduler.holdings()).toHaveLength(4);
  });

  it('keeps jobs off the cores the tiers hold', async () => {
    const plan = await h.d.executions.submit({ shop_db: { cpu_cores: 1, mem_units: 1 }, shop_web: { cpu_cores: 2, mem_units: 2 } });
    expect((await plan.done).status).toBe('succeeded');
    await h.template('count');
    const dispatched: Job[] = [];
    for (let i = 0; i < 3; i++) dispatched.push(await h.dispatch({ template: 'count' }));
    await until(() => h.tasks.runningTasks().length, (n) => n === 1);
    const { cluster } = h.d.knowledge.requireDeployment();
    for (const t of h.tasks.runningTasks()) {
      const node = t.engine.includes('n1') ? 'n1' : 'n2';
      const tierCores = Object.values(cluster[node].containers).flatMap((c) => c.cpuset);
      expect(t.task.cpuset.filter((c) => tierCores.includes(c))).toEqual([]);
    }
    expect((await h.job(dispatched[2].id)).reason).toMatch(/^no ready node has 1 free core/);
  });

  it('refuses a job no node and no vm_size could hold (422 naming the field) and queues nothing', async () => {
    await h.template('count');
    await expect(h.jobs.putTemplate('huge', { image: 'busybox', cpu_cores: 64 })).rejects.toThrow(/^cpu_cores: never_fits: no node of the pool or the cloud's vm_size could hold 64 cores/);
    await expect(h.jobs.putTemplate('picky', { image: 'busybox', node_selector: { gpu: 'yes' } })).rejects.toThrow(/^node_selector: never_fits/);
    await expect(h.jobs.dispatch({ template: 'nope' })).rejects.toThrow(/^template: no job template named 'nope'/);
    await expect(h.jobs.dispatch({ template: 'count', input: 'x'.repeat(2 * 1024 * 1024) })).rejects.toThrow(/^input: is 2097152 bytes, over/);
    const err = await h.jobs.putTemplate('huge', { image: 'busybox', cpu_cores: 64 }).catch((e: DomainError) => e);
    expect(err).toBeInstanceOf(UnsatisfiableError);
    expect(await h.d.state.jobs.listJobs({ limit: 10 })).toEqual([]);
    expect(h.jobs.templates.get('huge')).toBeUndefined();
  });

  it('caps running jobs per template at max_concurrent', async () => {
    await h.template('one', { max_concurrent: 1 });
    const a = await h.dispatch({ template: 'one' });
    const b = await h.dispatch({ template: 'one' });
    await until(() => h.job(a.id), (j) => j.status === 'running');
    expect(await h.job(b.id)).toMatchObject({ status: 'queued', reason: "job template 'one' has max_concurrent 1 jobs running" });
    h.tasks.finish(containerOf(await h.job(a.id)), 0);
    await until(() => h.job(b.id), (j) => j.status === 'running');
  });

  it('starts higher priority first, FIFO within a priority', async () => {
    await h.template('count', { cpu_cores: 2 });
    const blockers = [await h.dispatch({ template: 'count' }), await h.dispatch({ template: 'count' })];
    await until(() => h.tasks.runningTasks().length, (n) => n === 2);
    const low1 = await h.dispatch({ template: 'count' });
    const low2 = await h.dispatch({ template: 'count' });
    const high = await h.dispatch({ template: 'count', priority: 10 });
    expect((await h.job(high.id)).position).toBe(1);
    expect((await h.job(low2.id)).position).toBe(3);
    h.tasks.finish(containerOf(await h.job(blockers[0].id)), 0);
    await until(() => h.job(high.id), (j) => j.status === 'running');
    expect((await h.job(low1.id)).status).toBe('queued');
    h.tasks.finish(containerOf(await h.job(blockers[1].id)), 0);
    await until(() => h.job(low1.id), (j) => j.status === 'running');
    expect((await h.job(low2.id)).status).toBe('queued');
  });

  it('cancels a queued job, which never starts, and a running one, whose container is stopped and removed', async () => {
    await h.template('count', { cpu_cores: 2 });
    const running = [await h.dispatch({ template: 'count' }), await h.dispatch({ template: 'count' })];
    const queued = await h.dispatch({ template: 'count' });
    await until(() => h.job(running[0].id), (j) => j.status === 'running');
    expect(await h.jobs.cancel(queued.id)).toMatchObject({ status: 'cancelled', reason: 'cancelled' });
    const container = containerOf(await h.job(running[0].id));
    await h.jobs.cancel(running[0].id);
    expect(await h.jobs.wait(running[0].id, 5)).toMatchObject({ status: 'cancelled', attempts: [{ reason: 'cancelled', exit_code: 143 }] });
    expect(h.tasks.find(container)).toBeUndefined();
    // The cores it freed go to no cancelled job.
    await new Promise((r) => setTimeout(r, 50));
    expect(h.tasks.started).not.toContain(`ecoware-job-${queued.id}-1`);
    expect((await h.job(queued.id)).attempts).toEqual([]);
    await expect(h.jobs.cancel(queued.id)).rejects.toThrow(/already cancelled/);
  });

  it('fails a job that waited longer than max_queue_s with queue_timeout', async () => {
    await h.template('count', { cpu_cores: 2 });
    await h.dispatch({ template: 'count' });
    await h.dispatch({ template: 'count' });
    const late = await h.dispatch({ template: 'count', max_queue_s: 0.2 });
    expect(await h.jobs.wait(late.id, 3)).toMatchObject({ status: 'failed', reason: 'queue_timeout', message: expect.stringContaining('no ready node has 2 free cores') });
  });

  it('retries per retry_on after a backoff, then records the last attempt', async () => {
    await h.template('flaky', { retries: 1, retry_on: ['exit'] });
    const job = await h.dispatch({ template: 'flaky' });
    await until(() => h.job(job.id), (j) => j.status === 'running');
    h.tasks.finish(containerOf(await h.job(job.id)), 3);
    const waiting = await until(() => h.job(job.id), (j) => j.status === 'queued' && j.attempts.length === 1);
    expect(waiting.reason).toMatch(/before attempt 2 \(backoff\)/);
    expect(Date.parse(waiting.not_before!) - Date.parse(waiting.attempts[0].ended_at!)).toBeGreaterThanOrEqual(1_990);
    const second = await until(() => h.job(job.id), (j) => j.status === 'running' && j.attempts.length === 2, 5_000);
    h.tasks.finish(containerOf(second), 3);
    expect(await h.jobs.wait(job.id, 5)).toMatchObject({ status: 'failed', reason: 'exit', exit_code: 3, attempts: [{ n: 1, reason: 'exit' }, { n: 2, reason: 'exit' }] });
  });

  it('times an attempt out, and tells oom apart from an exit', async () => {
    await h.template('slow', { timeout_s: 0.2 });
    await h.template('big');
    const slow = await h.dispatch({ template: 'slow' });
    expect(await h.jobs.wait(slow.id, 5)).toMatchObject({ status: 'timed_out', reason: 'timeout', attempts: [{ reason: 'timeout' }] });
    const big = await h.dispatch({ template: 'big' });
    await until(() => h.job(big.id), (j) => j.status === 'running');
    h.tasks.finish(containerOf(await h.job(big.id)), 137, { oom: true });
    expect(await h.jobs.wait(big.id, 5)).toMatchObject({ status: 'failed', reason: 'oom', exit_code: 137 });
  });

  it('keeps the output of each stream after the container is gone', async () => {
    await h.template('talk', { keep_logs_kib: 1 });
    const job = await h.dispatch({ template: 'talk' });
    const running = await until(() => h.job(job.id), (j) => j.status === 'running');
    const engine = h.tasks.find(containerOf(running))!.engine;
    engine.emit(containerOf(running), 'stdout', 'x'.repeat(2000) + '\nline 1\nline 2\n');
    engine.emit(containerOf(running), 'stderr', 'warning\n');
    h.tasks.finish(containerOf(running), 0);
    await h.jobs.wait(job.id, 5);
    expect(h.tasks.find(containerOf(running))).toBeUndefined();
    const stdout = await h.jobs.logs(job.id, 'stdout');
    expect(stdout.length).toBe(1024);
    expect(stdout.toString().endsWith('line 1\nline 2\n')).toBe(true);
    expect((await h.jobs.logs(job.id, 'stdout', { tail: 1 })).toString()).toBe('line 2\n');
    expect((await h.jobs.logs(job.id, 'stderr')).toString()).toBe('warning\n');
  });

  it('ends the attempts of a lost node node_lost and retries them elsewhere', async () => {
    await h.template('count', { retries: 1 });
    const job = await h.dispatch({ template: 'count' });
    const running = await until(() => h.job(job.id), (j) => j.status === 'running');
    const lost = running.attempts[0].node;
    h.tasks.engine(`tcp://${lost}:2375`).isDown = true;
    h.d.knowledge.nodes.failed(lost, 'down', Date.now(), true);
    h.d.bus.publish({ type: 'node', name: lost, health: 'lost', at: new Date().toISOString() });
    const again = await until(() => h.job(job.id), (j) => j.attempts.length === 2 && j.status === 'running', 5_000);
    expect(again.attempts[0]).toMatchObject({ node: lost, reason: 'node_lost' });
    expect(again.attempts[1].node).not.toBe(lost);
  });
});

describe('jobs across a daemon restart', () => {
  let h: Harness;
  beforeEach(async () => { h = await harness(); });
  afterEach(async () => { await h.close(); });

  it('re-attaches to running containers and records those that ended meanwhile; none runs twice', async () => {
    await h.template('count');
    const a = await h.dispatch({ template: 'count' });
    const b = await h.dispatch({ template: 'count' });
    await until(() => h.tasks.runningTasks().length, (n) => n === 2);
    const engineOfA = h.tasks.find(containerOf(await h.job(a.id)))!.engine;
    engineOfA.emit(containerOf(await h.job(a.id)), 'stdout', 'before\n');
    await h.scheduler.stop();
    // While the daemon is down: b ends.
    h.tasks.finish(containerOf(await h.d.state.jobs.getJob(b.id) as Job), 0, { output: 'b done' });
    expect(h.tasks.runningTasks()).toHaveLength(1);
    await h.restart();
    expect(await h.jobs.wait(b.id, 5)).toMatchObject({ status: 'succeeded', output: 'b done' });
    engineOfA.emit(containerOf(await h.job(a.id)), 'stdout', 'after\n');
    h.tasks.finish(containerOf(await h.job(a.id)), 0);
    expect(await h.jobs.wait(a.id, 5)).toMatchObject({ status: 'succeeded', attempts: [{ n: 1 }] });
    expect((await h.jobs.logs(a.id, 'stdout')).toString()).toBe('before\nafter\n');
    expect(h.tasks.started.filter((n) => n.includes(a.id))).toHaveLength(1);
    expect(h.tasks.started.filter((n) => n.includes(b.id))).toHaveLength(1);
  });

  it('queues again an attempt recorded starting whose container never started, without counting it', async () => {
    await h.template('count');
    await h.scheduler.stop();
    const now = new Date().toISOString();
    const id = 'j20260101T000000000000-aaaaaa';
    await h.d.state.jobs.saveJob({
      id, template: 'count', status: 'starting', priority: 0, created_at: now, queued_at: now,
      spec: { image: 'busybox', command: ['work'], env: {}, cpu_cores: 1, mem_units: 1, retries: 0, retry_on: ['node_lost'], input_mode: 'arg', keep_logs_kib: 1 },
      attempts: [{ n: 1, node: 'n1', container: `ecoware-job-${id}-1`, cpuset: [0], started_at: now }],
    });
    await h.restart();
    const job = await until(() => h.job(id), (j) => j.status === 'running');
    expect(job.attempts[0]).toMatchObject({ reason: 'error', message: expect.stringContaining('before the container started') });
    expect(h.tasks.started).toEqual([`ecoware-job-${id}-2`]);
  });

  it('keeps the cores of an attempt whose node does not answer at start, and ends it node_lost when the node is lost', async () => {
    await h.template('wide', { cpu_cores: 2 });
    const a = await h.dispatch({ template: 'wide' });
    const running = await until(() => h.job(a.id), (j) => j.status === 'running');
    const node = running.attempts[0].node;
    await h.scheduler.stop();
    h.tasks.engine(`tcp://${node}:2375`).isDown = true;
    await h.restart();
    expect(h.scheduler.holdings()).toEqual([expect.objectContaining({ job: a.id, vm: node, cpuset: [0, 1] })]);
    const b = await h.dispatch({ template: 'wide' });
    const c = await h.dispatch({ template: 'wide' });
    expect((await until(() => h.job(b.id), (j) => j.status === 'running')).attempts[0].node).not.toBe(node);
    expect((await h.job(c.id)).reason).toContain(`${node} has 0 free cores`);
    h.d.knowledge.nodes.failed(node, 'down', Date.now(), true);
    h.d.bus.publish({ type: 'node', name: node, health: 'lost', at: new Date().toISOString() });
    expect(await h.jobs.wait(a.id, 5)).toMatchObject({ status: 'failed', reason: 'node_lost', attempts: [{ reason: 'node_lost' }] });
  });

  it('fails an attempt whose container is gone, and removes containers of jobs that are over', async () => {
    await h.template('count');
    const a = await h.dispatch({ template: 'count' });
    const running = await until(() => h.job(a.id), (j) => j.status === 'running');
    await h.scheduler.stop();
    const found = h.tasks.find(containerOf(running))!;
    await found.engine.remove(found.task.state.id);
    // A container of a job that is over, left by a daemon that stopped before removing it.
    await found.engine.start({ name: 'ecoware-job-jold-1', image: 'busybox', argv: [], env: {}, cpuset: [1], memoryMb: 16, labels: { 'ecoware.job': 'jold' } });
    await h.restart();
    expect(await h.jobs.wait(a.id, 5)).toMatchObject({ status: 'failed', reason: 'error', message: expect.stringContaining('container was gone') });
    expect(h.tasks.find('ecoware-job-jold-1')).toBeUndefined();
  });
});

describe('jobs as the rest of the daemon sees them', () => {
  let h: Harness;
  beforeEach(async () => { h = await harness(); });
  afterEach(async () => { await h.close(); });

  it('publishes every status change as a job event, in order', async () => {
    await h.template('count');
    const job = await h.dispatch({ template: 'count' });
    await until(() => h.job(job.id), (j) => j.status === 'running');
    h.tasks.finish(containerOf(await h.job(job.id)), 0);
    await h.jobs.wait(job.id, 5);
    const seen = h.d.events.filter((e) => e.type === 'job' && e.id === job.id).map((e) => (e as { status: string }).status);
    expect(seen).toEqual(['queued', 'starting', 'running', 'succeeded']);
    expect(h.d.events).toContainEqual(expect.objectContaining({ type: 'job', id: job.id, template: 'count', status: 'succeeded' }));
  });

  it('tells plans what running jobs hold and the fleet what queued jobs wait for', async () => {
    await h.template('wide', { cpu_cores: 2, mem_units: 3 });
    const jobs: Job[] = [];
    for (let i = 0; i < 3; i++) jobs.push(await h.dispatch({ template: 'wide' }));
    await until(() => h.tasks.runningTasks().length, (n) => n === 2);
    const holdings = h.scheduler.holdings();
    expect(holdings.map((x) => x.vm).sort()).toEqual(['n1', 'n2']);
    expect(holdings[0]).toMatchObject({ template: 'wide', cores: 2, cpuset: [0, 1], memoryMb: 3 * 16 });
    expect(h.scheduler.unplacedDemand()).toEqual([expect.objectContaining({ job: jobs[2].id, cores: 2, memUnits: 3, memoryMb: 48 })]);
    expect(h.scheduler.metrics()).toMatchObject({ counts: { queued: 1, running: 2 }, demand: { cores: 2, mem_units: 3 } });
  });

  it('runs a process definition of the registry as a job: its program, input file and stdout as output', async () => {
    const { parseProcessDefinition } = await import('../../src/schema/process-definition');
    const id = await h.d.state.processDefinitions.create(parseProcessDefinition({
      exec: '/bin/cat', argv: ['${input_file}'],
      input_adapter: { input_type: 'file', input_parameters: { file_path: '${input_file}' } },
      output_adapter: { output_type: 'file', output_parameters: { file_type: 'stream', stream_name: 'STDOUT' } },
    }, ''));
    await expect(h.jobs.dispatch({ template: `process:${id}`, input: 'hello' })).rejects.toThrow(/^image: is required/);
    const job = await h.dispatch({ template: `process:${id}`, image: 'busybox', input: 'hello' });
    const running = await until(() => h.job(job.id), (j) => j.status === 'running');
    const task = h.tasks.find(containerOf(running))!;
    expect(task.task.spec).toMatchObject({ argv: ['/bin/cat', '/ecoware/input'], files: [{ path: '/ecoware/input', content: Buffer.from('hello') }] });
    task.engine.emit(containerOf(running), 'stdout', 'hello');
    h.tasks.finish(containerOf(running), 0);
    expect(await h.jobs.wait(job.id, 5)).toMatchObject({ status: 'succeeded', output: 'hello', template: `process:${id}` });
  });
});

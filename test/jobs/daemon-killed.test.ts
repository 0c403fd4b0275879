import { ChildProcess, spawn } from 'child_process';
import { promises as fs } from 'fs';
import * as os from 'os';
import * as path from 'path';
import { engine, freePort, testDockerEndpoint, testImage } from '../support/docker';
import { waitUntil } from '../support/wait-for';

const CLI = path.join(__dirname, '..', '..', 'dist', 'cli.js');
const N = 30;

/**
 * The daemon killed with SIGKILL while jobs run and wait (no shutdown of any kind), then started
 * again on the same state dir: no job is lost, every one succeeds once, and none ran twice: a job
 * has a second attempt only after one whose container never started, and the engine never showed a
 * container of a job other than its attempts' own.
 */
describe('jobs across a daemon killed with -9', () => {
  let scratch: string;
  let daemon: ChildProcess | undefined;
  let url: string;
  const everSeen = new Map<string, Set<string>>(); // job id -> container names that ever existed

  const start = async () => {
    const port = await freePort();
    url = `http://127.0.0.1:${port}`;
    daemon = spawn(process.execPath, [CLI, 'start', '--port', String(port), '--state-dir', path.join(scratch, 'state')], {
      env: { ...process.env, DOCKER_HOST: testDockerEndpoint().url, ECOWARE_LOG_LEVEL: 'warn' }, stdio: ['ignore', 'ignore', 'inherit'],
    });
    await waitUntil('the daemon ready', async () => ((await fetch(`${url}/readyz`)).status === 200 ? true : undefined), 60_000, { ignoreErrors: true });
  };
  const api = async (method: string, route: string, body?: unknown) => {
    const res = await fetch(`${url}${route}`, { method, headers: { 'content-type': 'application/json' }, ...(body ? { body: JSON.stringify(body) } : {}) });
    return { status: res.status, body: await res.json() as any };
  };
  const sample = async () => {
    for (const c of await engine().listContainers({ all: true, filters: { label: ['ecoware.job'] } })) {
      const job = c.Labels['ecoware.job'];
      if (!everSeen.has(job)) everSeen.set(job, new Set());
      everSeen.get(job)!.add(c.Names[0].slice(1));
    }
  };

  beforeAll(async () => {
    scratch = await fs.mkdtemp(path.join(os.tmpdir(), 'ecoware-jobs-kill-'));
    await start();
    const topology = await api('PUT', '/api/topology', {
      infrastructure: { cloud_driver: { type: 'static', nodes: [{ name: 'node1', docker: testDockerEndpoint().url }] }, cpu_cores: 2, mem_units: 4, mem_unit_mb: 32, reconcile_interval_s: 0 },
      apps: [],
    });
    expect(topology.status).toBe(200);
  }, 120_000);

  afterAll(async () => {
    if (daemon && daemon.exitCode === null) {
      const exited = new Promise((resolve) => daemon!.once('exit', resolve));
      daemon.kill('SIGTERM');
      await exited;
    }
    for (const c of await engine().listContainers({ all: true, filters: { label: ['ecoware.job'] } })) {
      await engine().getContainer(c.Id).remove({ force: true }).catch(() => undefined);
    }
    await fs.rm(scratch, { recursive: true, force: true });
  });

  it('loses no job and runs none twice', async () => {
    expect((await api('PUT', '/api/job-templates/tick', { image: testImage(), command: ['/bin/sh', '-c', 'mkdir -p /ecoware; sleep 2; echo "ran $1" > /ecoware/output', 'sh'] })).status).toBe(201);
    await waitUntil('the template ready', async () => ((await api('GET', '/api/job-templates/tick')).body.status === 'ready' ? true : undefined), 30_000);
    const ids: string[] = [];
    for (let i = 0; i < N; i++) ids.push((await api('POST', '/api/jobs', { template: 'tick', input: String(i) })).body.id);
    // Some have run, some run, the rest wait: then the daemon is killed.
    await waitUntil('a few finished', async () => {
      await sample();
      return (await api('GET', '/api/jobs?status=succeeded&limit=100')).body.jobs.length >= 3 ? true : undefined;
    }, 120_000);
    await sample();
    const underWay = (await api('GET', '/api/jobs?status=starting,running&limit=100')).body.jobs.length;
    daemon!.kill('SIGKILL');
    await new Promise((resolve) => daemon!.once('exit', resolve));
    await sample();
    await start();
    await waitUntil('every job finished', async () => {
      await sample();
      return (await api('GET', '/api/jobs?status=queued,starting,running&limit=100')).body.jobs.length === 0 ? true : undefined;
    }, 240_000);
    for (const [i, id] of ids.entries()) {
      const job = (await api('GET', `/api/jobs/${id}`)).body;
      expect(job).toMatchObject({ status: 'succeeded', output: `ran ${i}\n` });
      // Every attempt before the last never started its container.
      for (const attempt of job.attempts.slice(0, -1)) expect(attempt.message).toContain('before the container started');
      // No container for the job but its attempts' own.
      const names = job.attempts.map((a: { container: string }) => a.container);
      for (const seen of everSeen.get(id) ?? []) expect(names).toContain(seen);
    }
    expect(underWay).toBeGreaterThanOrEqual(1);
    console.log(`${N} jobs, daemon killed with -9 once (${underWay} starting or running then): ${ids.filter((id) => (everSeen.get(id)?.size ?? 0) > 0).length} containers seen, all jobs succeeded once`);
  }, 420_000);
});

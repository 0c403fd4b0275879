import { ChildProcess, spawn } from 'child_process';
import { promises as fs } from 'fs';
import * as os from 'os';
import * as path from 'path';
import request from 'supertest';
import { Daemon, startDaemon } from '../../src/main';
import { LABEL_APP } from '../../src/drivers/docker/labels';
import { GitFixture } from '../support/git-fixture';
import { engineExec, removeContainersByLabel, testDockerEndpoint, testImage } from '../support/docker';
import { waitFor } from '../support/wait-for';

/**
 * Executions operators can follow: hooks from a real git repository running in real containers,
 * failures and `on_hook_failure`, cancel, `?wait=false`, and records that survive a restart or a crash.
 */
const APP = `exe${process.pid}`;

const topology = (repo: string, hooks: { db?: string; web?: string }, extra: Record<string, unknown> = {}) => ({
  infrastructure: {
    cloud_driver: { type: 'static', nodes: [{ name: 'node1', docker: testDockerEndpoint().url }] },
    hooks_git_repo: repo, cpu_cores: 2, mem_units: 8, mem_unit_mb: 16, ...extra,
  },
  apps: [{
    name: APP,
    tiers: {
      db: { max_node: 1, docker_image: testImage(), ...(hooks.db ? { on_node_scale: hooks.db } : {}) },
      web: { docker_image: testImage(), depends_on: ['db'], on_dependency_scale: 'notify.sh', ...(hooks.web ? { on_node_scale: hooks.web } : {}) },
    },
  }],
});

describe('executions', () => {
  let root: string;
  let repo: GitFixture;
  let daemon: Daemon;
  let api: ReturnType<typeof request>;
  const stateDir = () => path.join(root, 'state');

  beforeAll(async () => {
    await removeContainersByLabel(LABEL_APP, APP);
    root = await fs.mkdtemp(path.join(os.tmpdir(), 'ecoware-exec-'));
    repo = new GitFixture(root);
    repo.commit({
      'scale_hooks/ok.sh': '#!/bin/sh\ncat > /tmp/payload.json\necho "resized to $ECOWARE_CPU_CORES cores"\n',
      'scale_hooks/fail.sh': '#!/bin/sh\necho "cannot tune" >&2\nexit 3\n',
      'scale_hooks/slow.sh': '#!/bin/sh\necho started\nsleep 30\necho finished\n',
      'tier_hooks/notify.sh': '#!/bin/sh\necho "$ECOWARE_TIER notified" >> /tmp/notified.log\n',
    });
    daemon = await startDaemon({ port: 0, stateDir: stateDir(), localDocker: testDockerEndpoint().url });
    api = request(daemon.url);
  });

  afterAll(async () => {
    await daemon?.close();
    await removeContainersByLabel(LABEL_APP, APP);
    await fs.rm(root, { recursive: true, force: true });
  });

  it('records hook output, and the commit the hooks came from', async () => {
    expect((await api.put('/api/topology').send(topology(repo.dir, { db: 'ok.sh' }))).status).toBe(200);
    const res = await api.put('/api/execute').send({ [APP]: { db: { cpu_cores: 1, mem_units: 2 }, web: { cpu_cores: 1, mem_units: 1 } } });
    expect(res.status).toBe(200);
    const execution = (await api.get(`/api/executions/${res.body.execution_id}`)).body;
    expect(execution.hooks_commit).toBe(repo.git('rev-parse', 'HEAD'));
    const createDb = execution.steps[0][0];
    expect(createDb).toMatchObject({ status: 'succeeded', hooks: [{ event: 'on_node_scale', hook: 'ok.sh', exitCode: 0, stdout: 'resized to 1 cores\n' }] });
    const payload = JSON.parse((await engineExec(createDb.container_id, ['cat', '/tmp/payload.json'])).output);
    expect(payload).toMatchObject({ tier: `${APP}_db`, vm: 'node1', new_allocation: { node1: { [`${APP}_db`]: { cpu_cores: 1, mem_units: 2 } } } });
  });

  it('runs dependency hooks after the dependency changed, in every container of the dependent tier', async () => {
    const res = await api.put('/api/execute').send({ [APP]: { db: { cpu_cores: 1, mem_units: 3 } } });
    expect(res.body.actions).toEqual([
      [`update container '${APP}_db' on vm 'node1' with cpu cores=1 and mem_units=3`],
      [`run tier hook for container '${APP}_web' on vm 'node1'`],
    ]);
    // Once when db was created with it, once now that db was resized.
    expect((await engineExec(`${APP}_web`, ['cat', '/tmp/notified.log'])).output).toBe(`${APP}_web notified\n`.repeat(2));
  });

  it('stops at a failing hook, reports it, and leaves the allocation telling the truth', async () => {
    expect((await api.put('/api/topology').send(topology(repo.dir, { db: 'fail.sh' }))).status).toBe(200);
    const res = await api.put('/api/execute').send({ [APP]: { db: { cpu_cores: 1, mem_units: 2 } } });
    expect(res.status).toBe(502);
    expect(res.body.status).toBe('failed');
    expect(res.body.error).toMatch(/on_node_scale hook 'fail.sh'.*exited with code 3/);
    const [[update], [notify]] = res.body.steps;
    expect(update).toMatchObject({ status: 'failed', hooks: [{ exitCode: 3, stderr: 'cannot tune\n' }] });
    expect(notify.status).toBe('skipped');
    // The resize itself happened, and the allocation says so.
    expect((await api.get('/api/allocation')).body.node1.used[`${APP}_db`]).toEqual({ cpu_cores: 1, mem_units: 2 });
  });

  it('goes on past a failing hook when the topology says so', async () => {
    expect((await api.put('/api/topology').send(topology(repo.dir, { db: 'fail.sh' }, { on_hook_failure: 'continue' }))).status).toBe(200);
    const res = await api.put('/api/execute').send({ [APP]: { db: { cpu_cores: 1, mem_units: 3 } } });
    expect(res.status).toBe(200);
    const [[update], [notify]] = res.body.steps;
    expect(update.status).toBe('failed');
    expect(notify.status).toBe('succeeded');
  });

  it('refuses a topology naming a hook the repository lacks, with 422', async () => {
    const res = await api.put('/api/topology').send(topology(repo.dir, { db: 'missing.sh' }));
    expect(res.status).toBe(422);
    expect(res.body.error).toMatch(/missing\.sh/);
    expect((await api.get('/api/topology')).body.apps[0].tiers.db.on_node_scale).toBe('fail.sh');
  });

  it('refuses a switch to a repository lacking the hooks, and the hooks in force still run', async () => {
    const other = new GitFixture(root, 'other-hooks');
    other.commit({ 'scale_hooks/unrelated.sh': '#!/bin/sh\n' });
    const res = await api.put('/api/topology').send(topology(other.dir, { db: 'fail.sh' }));
    expect(res.status).toBe(422);
    const exec = await api.put('/api/execute').send({ [APP]: { db: { cpu_cores: 1, mem_units: 2 } } });
    expect(exec.body.steps[0][0].hooks).toEqual([expect.objectContaining({ hook: 'fail.sh', exitCode: 3 })]);
    expect(exec.body.steps[1][0].hooks).toEqual([expect.objectContaining({ hook: 'notify.sh', exitCode: 0 })]);
  });

  it('cancels a running execution: the hook is terminated and the rest does not run', async () => {
    expect((await api.put('/api/topology').send(topology(repo.dir, { db: 'slow.sh' }))).status).toBe(200);
    const submitted = await api.put('/api/execute?wait=false').send({ [APP]: { db: { cpu_cores: 1, mem_units: 1 } } });
    expect(submitted.status).toBe(202);
    const uri = submitted.headers.location;
    await waitFor(() => api.get(uri).then((r) => r.body), (e) => e.steps?.[0]?.[0]?.status === 'running');
    // Give the hook a moment to be inside its sleep.
    await new Promise((r) => setTimeout(r, 500));
    const cancel = await api.post(`${uri}/cancel`);
    expect(cancel.status).toBe(202);
    const execution = await waitFor(() => api.get(uri).then((r) => r.body), (e) => e.status !== 'running');
    expect(execution.status).toBe('cancelled');
    expect(execution.steps[0][0].hooks[0]).toMatchObject({ hook: 'slow.sh', cancelled: true, stdout: 'started\n' });
    expect(execution.steps[1][0].status).toBe('cancelled');
    const ps = await engineExec(execution.steps[0][0].container_id, ['ps', '-o', 'args']);
    expect(ps.output).not.toMatch(/sleep 30/);
    expect((await api.post(`${uri}/cancel`)).status).toBe(409);
    expect((await api.post('/api/executions/nope/cancel')).status).toBe(404);
  });

  it('marks an execution a crashed daemon left running as interrupted, and keeps the rest', async () => {
    const before = (await api.get('/api/executions?limit=100')).body;
    await daemon.close();

    // A real daemon process, killed with SIGKILL in the middle of a slow hook.
    const child: ChildProcess = spawn(process.execPath, [path.join(__dirname, '../../dist/cli.js'), 'start', '--port', '0', '--state-dir', stateDir()], {
      env: { ...process.env, DOCKER_HOST: testDockerEndpoint().url }, stdio: ['ignore', 'pipe', 'pipe'],
    });
    const url = await new Promise<string>((resolve, reject) => {
      let out = '';
      child.stdout!.on('data', (d) => { out += d; const m = /listening on (http:\/\/\S+)/.exec(out); if (m) resolve(m[1]); });
      child.once('exit', (code) => reject(new Error(`daemon exited with ${code}: ${out}`)));
    });
    const submitted = await request(url).put('/api/execute?wait=false').send({ [APP]: { db: { cpu_cores: 1, mem_units: 3 } } });
    await waitFor(() => request(url).get(submitted.headers.location).then((r) => r.body), (e) => e.steps?.[0]?.[0]?.status === 'running');
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));

    daemon = await startDaemon({ port: 0, stateDir: stateDir(), localDocker: testDockerEndpoint().url });
    api = request(daemon.url);
    const crashed = (await api.get(submitted.headers.location)).body;
    expect(crashed).toMatchObject({ status: 'failed', error: { code: 'interrupted' } });
    const after = (await api.get('/api/executions?limit=100')).body;
    expect(after.meta.total_count).toBe(before.meta.total_count + 1);
    expect(after.objects.slice(1).map((e: { id: string; status: string }) => [e.id, e.status]))
      .toEqual(before.objects.map((e: { id: string; status: string }) => [e.id, e.status]));
    // The resize had been done before the crash: the allocation rebuilt from the engine says so.
    expect((await api.get('/api/allocation')).body.node1.used[`${APP}_db`]).toEqual({ cpu_cores: 1, mem_units: 3 });
  });

  it('comes back after a restart with the hooks fetched before when the repository can\'t be reached', async () => {
    const topologyBefore = (await api.get('/api/topology')).body;
    const head = repo.git('rev-parse', 'HEAD');
    await daemon.close();
    const away = `${repo.dir}.away`;
    await fs.rename(repo.dir, away);
    try {
      daemon = await startDaemon({ port: 0, stateDir: stateDir(), localDocker: testDockerEndpoint().url });
      api = request(daemon.url);
      expect((await api.get('/api/topology')).body).toEqual(topologyBefore);
      const res = await api.put('/api/execute').send({});
      expect(res.status).toBe(200);
      expect((await api.get(`/api/executions/${res.body.execution_id}`)).body.hooks_commit).toBe(head);
    } finally {
      await fs.rename(away, repo.dir);
    }
  });
});

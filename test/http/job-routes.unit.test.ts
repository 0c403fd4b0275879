import request from 'supertest';
import { harness, Harness, until } from '../support/jobs-harness';

/** The jobs' API over fake engines: answers, codes, and that a refused request leaves the state as it was. */
describe('the jobs API', () => {
  let h: Harness;
  beforeEach(async () => {
    h = await harness();
    await h.template('count', { input: { max_bytes: 10 } });
  });
  afterEach(async () => { await h.close(); });

  const snapshot = async () => ({
    jobs: await h.d.state.jobs.listJobs({ limit: 100 }),
    templates: await h.d.state.jobs.listTemplates(),
    started: [...h.tasks.started],
  });

  it.each([
    ['POST', '/api/jobs', { template: 'nope' }, 404, 'template'],
    ['POST', '/api/jobs', { template: 'count', input: 'x'.repeat(11) }, 400, 'input'],
    ['POST', '/api/jobs', { template: 'count', timeout_s: 0 }, 400, 'timeout_s'],
    ['POST', '/api/jobs', { template: 'count', timeout_s: -1 }, 400, 'timeout_s'],
    ['POST', '/api/jobs', { template: 'count', env: { 'NOT-A-NAME': '1' } }, 400, 'env.NOT-A-NAME'],
    ['POST', '/api/jobs', { template: 'count', priority: 'high' }, 400, 'priority'],
    ['POST', '/api/jobs', { input: 'x' }, 400, 'template'],
    ['POST', '/api/jobs', { template: 'count', image: 'busybox' }, 400, 'image'],
    ['POST', '/api/jobs', { template: 'process:7' }, 404, 'template'],
    ['PUT', '/api/job-templates/big', { image: 'busybox', cpu_cores: 64 }, 422, 'cpu_cores'],
    ['PUT', '/api/job-templates/fat', { image: 'busybox', mem_units: 4096 }, 422, 'mem_units'],
    ['PUT', '/api/job-templates/gpu', { image: 'busybox', node_selector: { gpu: 'yes' } }, 422, 'node_selector'],
    ['PUT', '/api/job-templates/sel', { image: 'busybox', node_selector: { 'a b': 'x' } }, 400, 'node_selector.a b'],
    ['PUT', '/api/job-templates/t', { image: 'busybox', timeout_s: 0 }, 400, 'timeout_s'],
    ['PUT', '/api/job-templates/t', { image: 'busybox', env: { '9x': 'y' } }, 400, 'env.9x'],
    ['PUT', '/api/job-templates/Bad_Name', { image: 'busybox' }, 400, 'name'],
    ['PUT', '/api/job-templates/t', { command: ['x'] }, 400, 'image'],
  ])('%s %s %j → %i naming %s, nothing queued or changed', async (method, path, body, status, field) => {
    const before = await snapshot();
    const res = await (method === 'POST' ? request(h.app).post(path) : request(h.app).put(path)).send(body);
    expect(res.status).toBe(status);
    expect(res.body.error).toMatch(new RegExp(`^${field.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: `));
    await h.scheduler.settled();
    expect(await snapshot()).toEqual(before);
  });

  it('answers a dispatch 202 with Location and its place; the same idempotency key answers 200 with the same job', async () => {
    const first = await request(h.app).post('/api/jobs').send({ template: 'count', idempotency_key: 'k1', input: 'a' });
    expect(first.status).toBe(202);
    expect(first.headers.location).toBe(`/api/jobs/${first.body.id}`);
    expect(first.body).toMatchObject({ id: expect.stringMatching(/^j\d{8}T/), status: expect.stringMatching(/^(starting|running)$/) });
    const again = await request(h.app).post('/api/jobs').send({ template: 'count', idempotency_key: 'k1', input: 'a' });
    expect(again.status).toBe(200);
    expect(again.body.id).toBe(first.body.id);
    expect((await h.d.state.jobs.listJobs({ limit: 10 })).length).toBe(1);
  });

  it('gives queued jobs a position and a reason, lists and filters, waits, cancels, and shows output', async () => {
    await request(h.app).put('/api/job-templates/wide').send({ image: 'busybox', cpu_cores: 2 }).expect(201);
    await h.jobs.templates.settled('wide');
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) ids.push((await request(h.app).post('/api/jobs').send({ template: 'wide' }).expect(202)).body.id);
    const third = await request(h.app).get(`/api/jobs/${ids[2]}`).expect(200);
    expect(third.body).toMatchObject({ status: 'queued', position: 1, reason: expect.stringMatching(/^no ready node has 2 free cores/) });
    expect((await request(h.app).get('/api/jobs?status=queued').expect(200)).body.jobs.map((j: { id: string }) => j.id)).toEqual([ids[2]]);
    expect((await request(h.app).get('/api/jobs?template=wide&limit=2').expect(200)).body.jobs.map((j: { id: string }) => j.id)).toEqual([ids[2], ids[1]]);
    expect((await request(h.app).get(`/api/jobs?before=${ids[1]}`).expect(200)).body.jobs.map((j: { id: string }) => j.id)).toEqual([ids[0]]);
    await request(h.app).get('/api/jobs?status=sleeping').expect(400);

    expect((await request(h.app).post(`/api/jobs/${ids[2]}/cancel`).expect(202)).body).toEqual({ id: ids[2], status: 'cancelled' });
    await request(h.app).post(`/api/jobs/${ids[2]}/cancel`).expect(409);

    const running = await until(() => h.jobs.get(ids[0]), (j) => j.status === 'running');
    const container = `ecoware-job-${ids[0]}-1`;
    h.tasks.find(container)!.engine.emit(container, 'stdout', 'one\ntwo\n');
    const waited = request(h.app).get(`/api/jobs/${ids[0]}?wait=10`);
    const followed = request(h.app).get(`/api/jobs/${ids[0]}/logs?follow=true`);
    setTimeout(() => {
      h.tasks.find(container)!.engine.emit(container, 'stdout', 'three\n');
      setTimeout(() => h.tasks.finish(container, 0, { output: 'result' }), 50);
    }, 100);
    const [done, logs] = await Promise.all([waited, followed]);
    expect(running.attempts[0].node).toMatch(/^n[12]$/);
    expect(done.body).toMatchObject({ id: ids[0], status: 'succeeded', output: 'result', exit_code: 0 });
    expect(logs.text).toBe('one\ntwo\nthree\n');
    expect((await request(h.app).get(`/api/jobs/${ids[0]}/logs?tail=1`).expect(200)).text).toBe('three\n');
    // Reading never removes the record.
    await request(h.app).get(`/api/jobs/${ids[0]}`).expect(200);
    await request(h.app).get('/api/jobs/unknown').expect(404);
    await request(h.app).get(`/api/jobs/${ids[0]}?wait=301`).expect(400);
  });

  it('refuses to delete a template with open jobs unless forced, which cancels them', async () => {
    const { body } = await request(h.app).post('/api/jobs').send({ template: 'count' }).expect(202);
    const refused = await request(h.app).delete('/api/job-templates/count').expect(409);
    expect(refused.body.error).toContain(body.id);
    expect((await request(h.app).delete('/api/job-templates/count?force=true').expect(200)).body).toEqual({ deleted: 'count', cancelled: [body.id] });
    expect(await h.jobs.wait(body.id, 5)).toMatchObject({ status: 'cancelled' });
    await request(h.app).get('/api/job-templates/count').expect(404);
  });

  it('validates templates: ready when a node has the image, rejected naming it otherwise; an install builds on one node', async () => {
    await request(h.app).put('/api/job-templates/ghost').send({ image: 'nowhere:1' }).expect(201);
    await h.jobs.templates.settled('ghost');
    expect((await request(h.app).get('/api/job-templates/ghost')).body).toMatchObject({ status: 'rejected', reason: expect.stringContaining("image 'nowhere:1' is on no ready node") });
    await request(h.app).post('/api/jobs').send({ template: 'ghost' }).expect(409);

    await request(h.app).put('/api/job-templates/pod').send({ install: { base_image: 'busybox', script: 'printf "#!/bin/sh\\necho \\$1" > main.sh; chmod +x main.sh' } }).expect(201);
    await h.jobs.templates.settled('pod');
    expect((await request(h.app).get('/api/job-templates/pod')).body).toMatchObject({ status: 'ready', rev: 1, command: ['./main.sh'] });
    expect(h.images.builds[0].spec).toMatchObject({ baseImage: 'busybox', ref: 'ecoware-job/pod:1', cwd: '/ecoware/app' });
    h.images.buildResult = { exitCode: 2, output: 'no such file' };
    await request(h.app).put('/api/job-templates/pod').send({ install: { base_image: 'busybox', script: 'exit 2' } }).expect(200);
    await h.jobs.templates.settled('pod');
    expect((await request(h.app).get('/api/job-templates/pod')).body).toMatchObject({ status: 'rejected', rev: 2, reason: expect.stringContaining('exited with 2') });
    expect((await request(h.app).get('/api/job-templates')).body.templates.map((t: { name: string }) => t.name)).toEqual(['count', 'ghost', 'pod']);
  });
});

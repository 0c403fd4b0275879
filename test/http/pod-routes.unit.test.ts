import express from 'express';
import request from 'supertest';
import { ConflictError, NotFoundError, ValidationError } from '../../src/domain/errors';
import { createPodRouter, PodJobs } from '../../src/http/pod-routes';

/**
 * POD's API over an in-memory stand-in for the jobs: what each action asks of the jobs and what it
 * answers, in POD's words. The routes against a daemon with real jobs on a real engine are in
 * test/jobs/pod-api.test.ts.
 */
function podJobs() {
  const templates = new Map<string, { name: string; status: string; rev: number; reason?: string }>();
  const jobs = new Map<string, { id: string; template: string; status: string; created_at: string; attempts: { node: string }[]; exit_code?: number; position?: number; reason?: string }>();
  const calls: { op: string; args: unknown[] }[] = [];
  const stand: PodJobs = {
    putTemplate: async (name, body) => {
      calls.push({ op: 'putTemplate', args: [name, body] });
      const t = { name, status: 'validating', rev: 1 };
      templates.set(name, t);
      return { template: t, created: true };
    },
    templates: { get: (name) => templates.get(name), nodesWithImage: async () => ['n1', 'n2'] },
    deleteTemplate: async (name, force) => {
      calls.push({ op: 'deleteTemplate', args: [name, force] });
      if ([...jobs.values()].some((j) => j.template === name && j.status === 'running')) throw new ConflictError(`job template '${name}' has 1 job(s) queued or running`);
      templates.delete(name);
      return { cancelled: [] };
    },
    dispatch: async (body) => {
      calls.push({ op: 'dispatch', args: [body] });
      const b = body as { template: string; input?: string };
      if (b.input !== undefined && b.input.length > 10) throw new ValidationError('input', 'is 11 bytes, over the template\'s input.max_bytes (10)');
      const job = { id: `j${jobs.size + 1}`, template: b.template, status: 'queued', created_at: new Date().toISOString(), attempts: [], position: 1, reason: 'no ready node has 1 free core' };
      jobs.set(job.id, job);
      return { job, created: true };
    },
    get: async (id) => {
      const job = jobs.get(id);
      if (!job) throw new NotFoundError(`job '${id}' not found`);
      return job;
    },
    cancel: async (id) => {
      const job = await stand.get(id);
      job.status = 'cancelled';
      return job;
    },
    wait: async (id) => stand.get(id),
    logs: async (id, stream) => Buffer.from(jobs.has(id) ? `${stream} of ${id}\n` : ''),
  };
  return { stand, templates, jobs, calls };
}

function appOf(jobs: PodJobs, baseImage?: string) {
  const app = express();
  app.use(createPodRouter(jobs, { baseImage: () => baseImage }));
  return app;
}

describe("POD's API", () => {
  it('newActivity makes a template that installs the script into the base image and runs ./main.sh with the input as $1', async () => {
    const { stand, calls } = podJobs();
    // POD's own example: the script URL's query is not encoded, and still reaches the daemon whole.
    const res = await request(appOf(stand, 'busybox-base')).get('/POD/?action=newActivity&installationScriptLocation=http://127.0.0.1:9/install.sh?dl=1&name=a');
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ name: 'a', status: 'verifying' });
    expect(calls[0]).toEqual({ op: 'putTemplate', args: ['a', { install: { base_image: 'busybox-base', script_url: 'http://127.0.0.1:9/install.sh?dl=1' }, command: ['./main.sh'], input: { mode: 'arg' } }] });
  });

  it('refuses an activity without an image to install into, one that exists, and a missing parameter, naming it', async () => {
    const { stand } = podJobs();
    const none = await request(appOf(stand)).get('/POD/?action=newActivity&installationScriptLocation=http://127.0.0.1:9/i.sh&name=a');
    expect(none.status).toBe(400);
    expect(none.body.error).toMatch(/job_base_image/);
    const withImage = appOf(stand, 'base');
    expect((await request(withImage).get('/POD/?action=newActivity&installationScriptLocation=http://127.0.0.1:9/i.sh&name=a')).status).toBe(200);
    const again = await request(withImage).get('/POD/?action=newActivity&installationScriptLocation=http://127.0.0.1:9/i.sh&name=a');
    expect(again.status).toBe(409);
    expect(again.body.error).toMatch(/'a' exists already/);
    const missing = await request(withImage).get('/POD/?action=newActivity&name=b');
    expect(missing.status).toBe(400);
    expect(missing.body).toEqual({ error: 'installationScriptLocation: is required (a query parameter)' });
    const unknown = await request(withImage).get('/POD/?action=launch');
    expect(unknown.status).toBe(400);
    expect(unknown.body.error).toMatch(/unknown action 'launch'/);
  });

  it('reports an activity in POD\'s words, with the workers that have it once approved', async () => {
    const { stand, templates } = podJobs();
    templates.set('a', { name: 'a', status: 'ready', rev: 1 });
    templates.set('b', { name: 'b', status: 'rejected', rev: 1, reason: 'the install script exited with 1' });
    const app = appOf(stand, 'base');
    expect((await request(app).get('/POD/?action=getActivityStatus&name=a')).body).toEqual({ name: 'a', status: 'approved', workers: ['n1', 'n2'] });
    expect((await request(app).get('/POD/?action=getActivityStatus&name=b')).body).toEqual({ name: 'b', status: 'rejected', workers: [], reason: 'the install script exited with 1' });
    const unknown = await request(app).get('/POD/?action=getActivityStatus&name=zz');
    expect(unknown.status).toBe(404);
    expect(unknown.body).toEqual({ error: "no activity named 'zz'" });
  });

  it('newExecution dispatches a job with the input; the status keeps answering after the execution ends; terminate cancels', async () => {
    const { stand, templates, jobs } = podJobs();
    templates.set('a', { name: 'a', status: 'ready', rev: 1 });
    const app = appOf(stand, 'base');
    const started = await request(app).get('/POD/?action=newExecution&name=a&input=hello');
    expect(started.status).toBe(200);
    expect(started.body).toEqual({ executionId: 'j1', status: 'queued', position: 1, reason: 'no ready node has 1 free core' });
    const tooLarge = await request(app).get('/POD/?action=newExecution&name=a&input=far-too-long-input');
    expect(tooLarge.status).toBe(400);
    expect(tooLarge.body.error).toMatch(/^input: |input\.max_bytes/);
    expect(jobs.size).toBe(1);

    Object.assign(jobs.get('j1')!, { status: 'succeeded', exit_code: 0, attempts: [{ node: 'n2' }] });
    for (let read = 0; read < 2; read++) {
      const status = await request(app).get('/POD/?action=getExecutionStatus&executionId=j1');
      expect(status.body).toMatchObject({ executionId: 'j1', activity: 'a', status: 'finished', exitCode: 0, stdout: 'stdout of j1\n', stderr: 'stderr of j1\n', worker: 'n2' });
    }
    const other = (await request(app).get('/POD/?action=newExecution&name=a')).body.executionId as string;
    const terminated = await request(app).get(`/POD/?action=terminateExecution&executionId=${other}`);
    expect(terminated.body).toEqual({ executionId: other, status: 'terminated' });
    expect((await request(app).get('/POD/?action=getExecutionStatus&executionId=nope')).status).toBe(404);
  });

  it('deleteActivity refuses while an execution runs and deletes otherwise', async () => {
    const { stand, templates, jobs } = podJobs();
    templates.set('a', { name: 'a', status: 'ready', rev: 1 });
    jobs.set('j9', { id: 'j9', template: 'a', status: 'running', created_at: '', attempts: [] });
    const app = appOf(stand, 'base');
    const refused = await request(app).get('/POD/?action=deleteActivity&name=a');
    expect(refused.status).toBe(409);
    expect(templates.has('a')).toBe(true);
    jobs.get('j9')!.status = 'succeeded';
    expect((await request(app).get('/POD/?action=deleteActivity&name=a')).body).toEqual({ name: 'a', status: 'deleted' });
    expect(templates.has('a')).toBe(false);
  });
});

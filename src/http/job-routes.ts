import express, { Request, Response } from 'express';
import { ValidationError } from '../domain/errors';
import { Job, JOB_STATUSES, JobStatus } from '../domain/job';
import { TaskStream } from '../ports/container-runtime';
import { JobRecord, Jobs, MAX_WAIT_S } from '../use-cases/jobs/jobs';
import { readFlag } from './query';

/**
 * SPEC §10's API: `/api/job-templates[/:name]` (PUT, GET, DELETE with `?force=true`) and
 * `/api/jobs` (POST a dispatch, GET a listing, one job with `?wait=`, its output with `follow`,
 * cancel). Handlers throw domain errors; the app's error mapper gives their status.
 */
export function createJobRouter(jobs: Jobs): express.Router {
  const router = express.Router({ strict: false });

  router.put('/api/job-templates/:name', async (req: Request, res: Response) => {
    const { template, created } = await jobs.putTemplate(String(req.params.name), req.body ?? {});
    res.status(created ? 201 : 200).location(`/api/job-templates/${encodeURIComponent(template.name)}`).json(template);
  });
  router.get('/api/job-templates', (_req: Request, res: Response) => {
    res.json({ templates: jobs.templates.list() });
  });
  router.get('/api/job-templates/:name', (req: Request, res: Response) => {
    res.json(jobs.templates.requireTemplate(String(req.params.name)));
  });
  router.delete('/api/job-templates/:name', async (req: Request, res: Response) => {
    const force = readFlag(req.query.force, 'force') === true;
    const { cancelled } = await jobs.deleteTemplate(String(req.params.name), force);
    res.json({ deleted: String(req.params.name), cancelled });
  });

  router.post('/api/jobs', async (req: Request, res: Response) => {
    if (req.body === undefined) throw new ValidationError('', 'a JSON body is required');
    const { job, created } = await jobs.dispatch(req.body);
    if (created) req.log.info({ job_id: job.id, template: job.template }, 'job queued');
    res.status(created ? 202 : 200).location(`/api/jobs/${job.id}`).json(accepted(job));
  });

  router.get('/api/jobs', async (req: Request, res: Response) => {
    const status = readStatuses(req.query.status);
    const template = optionalString(req.query.template, 'template');
    const before = optionalString(req.query.before, 'before');
    const limit = readNumber(req.query.limit, 'limit', 1, 1000) ?? 100;
    const items = await jobs.list({ status, template, before, limit });
    res.json({ jobs: items.map(summary), ...(items.length === limit ? { next: `/api/jobs?before=${items[items.length - 1].id}&limit=${limit}` } : {}) });
  });

  router.get('/api/jobs/:id', async (req: Request, res: Response) => {
    const wait = readNumber(req.query.wait, 'wait', 0, MAX_WAIT_S);
    const id = String(req.params.id);
    res.json(wait ? await jobs.wait(id, wait) : await jobs.get(id));
  });

  router.post('/api/jobs/:id/cancel', async (req: Request, res: Response) => {
    const job = await jobs.cancel(String(req.params.id));
    res.status(202).json({ id: job.id, status: job.status });
  });

  router.get('/api/jobs/:id/logs', async (req: Request, res: Response) => {
    const id = String(req.params.id);
    const stream = readStream(req.query.stream);
    const tail = readNumber(req.query.tail, 'tail', 0, 1_000_000);
    const follow = readFlag(req.query.follow, 'follow') === true;
    const attempt = readNumber(req.query.attempt, 'attempt', 1, 1000);
    if (!follow) {
      const data = await jobs.logs(id, stream, { ...(attempt ? { attempt } : {}), ...(tail !== undefined ? { tail } : {}) });
      res.type('text/plain; charset=utf-8').send(data);
      return;
    }
    await jobs.get(id); // 404 before the stream opens
    res.status(200).type('text/plain; charset=utf-8').set('Cache-Control', 'no-cache').set('X-Accel-Buffering', 'no');
    res.flushHeaders();
    const abort = new AbortController();
    res.on('close', () => abort.abort());
    await jobs.follow(id, stream, (data) => { if (data.length > 0) res.write(data); }, abort.signal, tail);
    res.end();
  });

  return router;
}

function accepted(job: JobRecord): Record<string, unknown> {
  return {
    id: job.id, status: job.status,
    ...(job.position !== undefined ? { position: job.position } : {}),
    ...(job.status === 'queued' && job.reason !== undefined ? { reason: job.reason } : {}),
    ...(job.never_fits ? { never_fits: true } : {}),
  };
}

function summary(job: Job): Record<string, unknown> {
  const last = job.attempts[job.attempts.length - 1];
  return {
    id: job.id, template: job.template, status: job.status, priority: job.priority, created_at: job.created_at,
    ...(job.started_at ? { started_at: job.started_at } : {}), ...(job.finished_at ? { finished_at: job.finished_at } : {}),
    attempts: job.attempts.length, ...(last ? { node: last.node } : {}),
    ...(job.exit_code !== undefined ? { exit_code: job.exit_code } : {}), ...(job.reason !== undefined ? { reason: job.reason } : {}),
  };
}

function readStatuses(value: unknown): JobStatus[] | undefined {
  const raw = optionalString(value, 'status');
  if (raw === undefined) return undefined;
  const statuses = raw.split(',').map((s) => s.trim()).filter(Boolean);
  for (const s of statuses) {
    if (!(JOB_STATUSES as readonly string[]).includes(s)) throw new ValidationError('status', `'${s.slice(0, 40)}' is not one of ${JOB_STATUSES.join(', ')}`);
  }
  return statuses as JobStatus[];
}

function readStream(value: unknown): TaskStream {
  const raw = optionalString(value, 'stream') ?? 'stdout';
  if (raw !== 'stdout' && raw !== 'stderr') throw new ValidationError('stream', 'must be stdout or stderr');
  return raw;
}

function optionalString(value: unknown, field: string): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || value.length > 200) throw new ValidationError(field, 'must be given once, as text of at most 200 characters');
  return value;
}

function readNumber(value: unknown, field: string, min: number, max: number): number | undefined {
  const raw = optionalString(value, field);
  if (raw === undefined) return undefined;
  const n = /^\d+(\.\d+)?$/.test(raw) ? Number(raw) : NaN;
  if (!Number.isFinite(n) || n < min || n > max) throw new ValidationError(field, `must be a number from ${min} to ${max}`);
  return n;
}

import { Request, Response, Router } from 'express';
import { ConflictError, DomainError, NotFoundError, ValidationError } from '../domain/errors';
import { log } from '../log';
import { statusOfCode } from './error-codes';

/** A template as POD's activity status needs it. */
interface PodTemplate {
  name: string;
  status: 'validating' | 'ready' | 'rejected' | string;
  reason?: string;
  image?: string;
  rev: number;
}

/** A job as POD's execution status needs it. */
interface PodJob {
  id: string;
  template: string;
  status: string;
  position?: number;
  reason?: string;
  exit_code?: number;
  output?: string;
  created_at: string;
  started_at?: string;
  finished_at?: string;
  attempts: { node: string }[];
}

/** What POD's API asks of the jobs (src/use-cases/jobs/jobs.ts `Jobs` is one). */
export interface PodJobs {
  putTemplate(name: string, body: unknown): Promise<{ template: PodTemplate; created: boolean }>;
  readonly templates: {
    get(name: string): PodTemplate | undefined;
    /** Ready nodes that have a template's image (POD's "workers" of an activity). */
    nodesWithImage?(name: string): Promise<string[]>;
  };
  deleteTemplate(name: string, force: boolean): Promise<{ cancelled: string[] }>;
  dispatch(body: unknown): Promise<{ job: PodJob; created: boolean }>;
  get(id: string): Promise<PodJob>;
  cancel(id: string): Promise<PodJob>;
  /** The job once it has ended, or as it is after `seconds`. */
  wait(id: string, seconds: number): Promise<PodJob>;
  logs(id: string, stream: 'stdout' | 'stderr'): Promise<Buffer>;
}

export interface PodOptions {
  /** `infrastructure.job_base_image` of the topology in force: what an activity's script runs in when the query names no `image`. */
  baseImage: () => string | undefined;
}

/** POD's actions that only read: its API is all GETs, changes included. */
const POD_READS = new Set(['getActivityStatus', 'getExecutionStatus']);

/** Whether a request to POD's route changes something (for access and a standby's role gate). */
export function isPodChange(path: string, query: Record<string, unknown>): boolean {
  return path.replace(/\/+$/, '') === '/POD' && !POD_READS.has(String(query.action));
}

/** How long `terminateExecution` waits for a running execution to stop (a job's grace is 10 s). */
const TERMINATE_WAIT_S = 30;

/** POD's activity states, from a template's. */
const ACTIVITY_STATUS: Record<string, string> = { validating: 'verifying', ready: 'approved', rejected: 'rejected' };

/** POD's execution states, from a job's: it knew queued, running, finished and terminated. */
function executionStatus(status: string): string {
  switch (status) {
    case 'queued': return 'queued';
    case 'starting':
    case 'running': return 'running';
    case 'cancelled': return 'terminated';
    case 'succeeded': return 'finished';
    default: return status; // failed, timed_out: said as they are
  }
}

function param(req: Request, name: string, required: true): string;
function param(req: Request, name: string, required: false): string | undefined;
function param(req: Request, name: string, required: boolean): string | undefined {
  const value = req.query[name];
  if (value === undefined || value === '') {
    if (required) throw new ValidationError(name, 'is required (a query parameter)');
    return undefined;
  }
  if (typeof value !== 'string') throw new ValidationError(name, 'must be given once');
  return value;
}

/**
 * POD's API (processing on demand): `GET /POD/?action=…` with POD's parameter names, so its curl
 * examples work unchanged. An activity is a job template whose install script is fetched from
 * `installationScriptLocation` and run in a container of the base image, leaving `./main.sh`; an
 * execution is a job with the input as `$1`. Answers are JSON; errors are POD's `{error}` with the
 * status of their kind (400 bad input, 404 unknown, 409 conflict). Unlike POD, reading a finished
 * execution keeps its record (retention removes it), and terminating a queued one means it never
 * runs.
 */
export function createPodRouter(jobs: PodJobs, options: PodOptions): Router {
  const router = Router();
  const actions: Record<string, (req: Request) => Promise<unknown>> = {
    newActivity: async (req) => {
      const name = param(req, 'name', true);
      const url = param(req, 'installationScriptLocation', true);
      const image = param(req, 'image', false) ?? options.baseImage();
      if (!image) {
        throw new ValidationError('image', 'no image to install the activity in: give &image=… or set infrastructure.job_base_image in the topology');
      }
      if (jobs.templates.get(name)) throw new ConflictError(`an activity named '${name}' exists already`);
      const { template } = await jobs.putTemplate(name, {
        install: { base_image: image, script_url: url },
        command: ['./main.sh'],
        input: { mode: 'arg' },
      });
      return { name: template.name, status: ACTIVITY_STATUS[template.status] ?? template.status };
    },
    getActivityStatus: async (req) => {
      const name = param(req, 'name', true);
      const template = jobs.templates.get(name);
      if (!template) throw new NotFoundError(`no activity named '${name}'`);
      const workers = template.status === 'ready' && jobs.templates.nodesWithImage ? await jobs.templates.nodesWithImage(name) : [];
      return {
        name, status: ACTIVITY_STATUS[template.status] ?? template.status, workers,
        ...(template.reason ? { reason: template.reason } : {}),
      };
    },
    deleteActivity: async (req) => {
      const name = param(req, 'name', true);
      if (!jobs.templates.get(name)) throw new NotFoundError(`no activity named '${name}'`);
      await jobs.deleteTemplate(name, false);
      return { name, status: 'deleted' };
    },
    newExecution: async (req) => {
      const name = param(req, 'name', true);
      if (!jobs.templates.get(name)) throw new NotFoundError(`no activity named '${name}'`);
      const input = param(req, 'input', false);
      const { job } = await jobs.dispatch({ template: name, ...(input !== undefined ? { input } : {}) });
      return {
        executionId: job.id, status: executionStatus(job.status),
        ...(job.position !== undefined ? { position: job.position } : {}),
        ...(job.status === 'queued' && job.reason ? { reason: job.reason } : {}),
      };
    },
    getExecutionStatus: async (req) => {
      const id = param(req, 'executionId', true);
      const job = await jobs.get(id);
      const [stdout, stderr] = await Promise.all([jobs.logs(id, 'stdout'), jobs.logs(id, 'stderr')]);
      return {
        executionId: job.id, activity: job.template, status: executionStatus(job.status),
        stdout: stdout.toString('utf8'), stderr: stderr.toString('utf8'),
        ...(job.exit_code !== undefined ? { exitCode: job.exit_code } : {}),
        ...(job.output !== undefined ? { output: job.output } : {}),
        ...(job.status === 'queued' && job.reason ? { reason: job.reason } : {}),
        ...(job.attempts.length > 0 ? { worker: job.attempts[job.attempts.length - 1].node } : {}),
        submitted: job.created_at,
        ...(job.started_at ? { started: job.started_at } : {}),
        ...(job.finished_at ? { finished: job.finished_at } : {}),
      };
    },
    terminateExecution: async (req) => {
      const id = param(req, 'executionId', true);
      await jobs.cancel(id);
      // POD answered once the execution was stopped: a running job gets SIGTERM, then SIGKILL after its grace.
      const job = await jobs.wait(id, TERMINATE_WAIT_S);
      return { executionId: job.id, status: executionStatus(job.status) };
    },
  };

  router.get(['/POD', '/POD/'], async (req: Request, res: Response) => {
    try {
      const action = param(req, 'action', true);
      const handler = Object.hasOwn(actions, action) ? actions[action] : undefined;
      if (!handler) throw new ValidationError('action', `unknown action '${action.slice(0, 60)}': one of ${Object.keys(actions).join(', ')}`);
      res.json(await handler(req));
    } catch (e) {
      if (e instanceof DomainError) {
        res.status(statusOfCode(e.code)).json({ error: e.message });
        return;
      }
      log.error({ err: e instanceof Error ? e.stack ?? e.message : String(e) }, 'unexpected error on a POD route');
      res.status(500).json({ error: 'internal error' });
    }
  });
  return router;
}

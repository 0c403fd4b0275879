import express, { Request, Response } from 'express';
import { NotFoundError, ValidationError } from '../domain/errors';
import { PartialPlan } from '../domain/plan';
import { parseFlatPlan, parseNestedPlan } from './plan-request';
import { Knowledge, Services } from '../use-cases/cluster/knowledge';
import { processDefinitionUsers } from '../use-cases/topology/check-hooks';
import { loadTopology } from '../use-cases/topology/load-topology';
import { PlanExecutions } from '../use-cases/execution/plan-executions';
import { previewPlan } from '../use-cases/execution/preview-plan';
import { inspectEngines, probeTiers, readAllocation } from '../use-cases/cluster/read-state';
import { SerialQueue } from '../use-cases/execution/serial-queue';
import { errorMapper } from './error-mapper';
import { sendError } from './error-codes';
import { executionRecord, executionResponse, statusOfExecution, summarise } from './execution-responses';
import { readPage, pageEnvelope } from './pagination';
import { readFlag } from './query';
import { createProcessDefinitionRouter } from './process-definition-routes';
import { createSystemRouter } from './system-routes';
import { createTychoRouter } from './tycho-routes';
import { createPodRouter } from './pod-routes';
import { Systems } from '../use-cases/systems/systems';
import { createNodeRouter, NodeRouteDependencies } from './node-routes';
import { createRollbackRouter } from './rollback-routes';
import { createJobRouter } from './job-routes';
import type { Jobs } from '../use-cases/jobs/jobs';
import { EventBus } from '../domain/events';
import { keepRedactedSecrets } from '../domain/redact';
import { Metrics } from '../drivers/prometheus/metrics';
import { AccessControl, redactingReplacer } from './access';
import { createEventStreamRouter, EventLog } from './event-stream';
import { createHealthRouter, Readiness } from './health-routes';
import { LeaderView, standbyGate } from './standby-gate';
import { readExecutionFilter } from './execution-filter';
import { checkParsedBody, isJsonMediaType, requireJsonBodies, verifyBody } from './request-bounds';
import { requestContext } from './request-context';
import { hostGuard } from './host-guard';
import { createUiRouter } from './ui-routes';
import { UiSessions } from './ui-session';
import { ExecutionAcceptedWire } from './wire';

export interface AppDependencies {
  knowledge: Knowledge;
  services: Services;
  queue: SerialQueue;
  executions: PlanExecutions;
  /** Systems from compose files (`/api/systems`, Tycho's `/system/*`); absent = no such routes. */
  systems?: Systems;
  /** Job templates and jobs (`/api/job-templates`, `/api/jobs`, SPEC §10); absent = no such routes. */
  jobs?: Jobs;
  /** The node pool routes (SPEC §8). */
  nodes?: NodeRouteDependencies;
  /** Feeds `GET /api/events`. */
  events?: EventBus;
  /** Served on `/metrics`. */
  metrics?: Metrics;
  /** Tokens and roles; without it every route is open. */
  access?: AccessControl;
  /**
   * Without tokens: the `Host` names answered besides loopback ones (src/http/host-guard.ts); absent,
   * no guard (an app built for tests, or one behind tokens).
   */
  allowedHosts?: readonly string[];
  /** The checks of `/readyz`. */
  readiness?: Readiness;
  /** False while shutting down: plans and topologies are refused with 503. */
  acceptingPlans?: () => boolean;
  /** On PostgreSQL: who leads (`GET /api/leader`). */
  leader?: () => Promise<LeaderView | undefined>;
  /**
   * `standby`: every read is served as on the leader, every change is answered by the role gate
   * (307 to the leader, or 503; src/http/standby-gate.ts) before it reaches a route. Default `leader`.
   */
  role?: 'leader' | 'standby';
  /**
   * A standby's: brings its view of the fleet up to date before a read of `/api` answers (it reads
   * the engines only when asked: use-cases/daemon/standby-view.ts).
   */
  beforeReads?: () => Promise<void>;
  /** The page's sessions, when they outlive this app (a daemon that changes role keeps its sessions). */
  sessions?: UiSessions;
  /** The numbered events of `/api/events`, when they outlive this app (ids go on across role changes). */
  eventLog?: EventLog;
}

/** The HTTP API of SPEC §5. Built without listening, so tests can start it on port 0. */
export function buildApp(deps: AppDependencies): express.Express {
  const { knowledge, services, queue, executions } = deps;
  const app = express();
  app.disable('x-powered-by');
  app.set('json replacer', redactingReplacer);
  app.use(requestContext());
  if (deps.allowedHosts && !deps.access) app.use(hostGuard(deps.allowedHosts));
  const role = deps.role ?? 'leader';
  app.use(createHealthRouter(deps.readiness, role));
  // The operator's page and its sessions (ui-routes.ts, ui-session.ts); the cookie stands for a token on every route.
  const sessions = deps.sessions ?? (deps.access ? new UiSessions(deps.access) : undefined);
  app.use(createUiRouter({ sessions }));
  if (deps.access) app.use(['/api', '/system', '/metrics', '/POD'], deps.access.middleware(sessions));
  const leader = deps.leader;
  app.get('/api/leader', async (_req, res, next) => {
    try {
      res.json({ leader: leader ? (await leader()) ?? null : null, self: role });
    } catch (e) {
      next(e);
    }
  });
  if (deps.metrics) {
    const registry = deps.metrics.registry;
    app.get('/metrics', async (_req, res) => { res.type(registry.contentType).send(await registry.metrics()); });
  }
  // A standby serves reads only; the role gate answers every change before a body is read. (The
  // page's sign-in, `/ui/session`, is answered above by each daemon itself: it changes no state.)
  if (role === 'standby') app.use(standbyGate(leader ?? (async () => undefined)));
  const beforeReads = deps.beforeReads;
  if (beforeReads) {
    app.use('/api', (req, _res, next) => {
      if (req.path === '/events' || req.path === '/leader') { next(); return; }
      beforeReads().then(() => next(), () => next());
    });
  }
  // Bodies are JSON, sent as application/json or application/*+json, nothing else (see request-bounds.ts).
  app.use(requireJsonBodies());
  // The same media types requireJsonBodies lets through, or a +json body would be read as no body.
  app.use(express.json({ limit: '5mb', type: (req) => isJsonMediaType(req.headers['content-type']), verify: verifyBody }));
  app.use(checkParsedBody());
  // Everything that starts an execution or changes the topology is refused while shutting down.
  app.use(['/api/execute', '/api/executor', '/api/topology', '/api/systems', '/system/start', '/system/delete',
    '/api/executions/:id/rollback', '/api/nodes/:name/drain', '/api/jobs', '/api/job-templates'], (req, res, next) => {
    if (req.method === 'GET' || !deps.acceptingPlans || deps.acceptingPlans()) {
      next();
      return;
    }
    res.set('Retry-After', '30');
    sendError(res, 'shutting_down', 'the daemon is shutting down and takes no more plans');
  });
  if (deps.events) app.use(createEventStreamRouter(deps.events, deps.eventLog));

  app.get('/api/topology', (_req, res) => { res.json(knowledge.requireDeployment().topology.raw); });

  app.put('/api/topology', async (req, res) => {
    const body = keepRedactedSecrets(requireBody(req), knowledge.deployment?.topology.raw);
    const topology = await queue.run(() => loadTopology(knowledge, services, body));
    res.json(topology.raw);
  });

  app.put('/api/translate', async (req, res) => {
    const plan = parseNestedPlan(requireBody(req), knowledge.requireDeployment().topology);
    res.json(await previewPlan(knowledge, services, plan));
  });

  const execute = async (req: Request, res: Response, plan: PartialPlan) => {
    const coalesce = readFlag(req.query.coalesce, 'coalesce') !== false;
    const wait = readFlag(req.query.wait, 'wait') !== false;
    const { execution, done } = await executions.submit(plan, 'plan', { coalesce });
    req.log.info({ execution_id: execution.id }, 'plan queued');
    if (!wait) {
      const accepted: ExecutionAcceptedWire = { execution_id: execution.id, status: execution.status };
      res.status(202).location(`/api/executions/${execution.id}`).json(accepted);
      return;
    }
    const finished = await done;
    res.status(statusOfExecution(finished)).json(executionResponse(finished));
  };
  app.put('/api/execute', (req, res) => execute(req, res, parseNestedPlan(requireBody(req), knowledge.requireDeployment().topology)));
  app.post('/api/executor', (req, res) => execute(req, res, parseFlatPlan(requireBody(req), knowledge.requireDeployment().topology)));

  app.get('/api/allocation', (_req, res) => { res.json(readAllocation(knowledge)); });
  app.get('/api/inspect', async (_req, res) => { res.json(await inspectEngines(knowledge, services)); });
  app.get('/api/executor/inspect', async (_req, res) => { res.json(await probeTiers(knowledge, services)); });

  app.get('/api/executions', async (req, res) => {
    const page = readPage(req.query);
    const filter = readExecutionFilter(req.query);
    const { total, items } = await services.executions.list({ ...page, filter });
    res.json(pageEnvelope('/api/executions', page, total, items.map(summarise), filter.query));
  });
  app.get('/api/executions/:id', async (req, res) => {
    const execution = req.params.id.length <= 128 ? await services.executions.get(req.params.id) : undefined;
    if (!execution) throw new NotFoundError(`execution '${req.params.id.slice(0, 128)}' not found`);
    res.json(executionRecord(execution));
  });
  app.post('/api/executions/:id/cancel', async (req, res) => {
    await executions.cancel(req.params.id);
    res.status(202).json({ execution_id: req.params.id, status: 'cancelling' });
  });

  if (deps.nodes) app.use(createNodeRouter(deps.nodes));
  app.use(createRollbackRouter({ knowledge, executions: executions.intake, store: services.executions }));
  app.use(createProcessDefinitionRouter(services.processDefinitions, {
    referencedBy: (id) => processDefinitionUsers(knowledge.deployment?.topology, id),
  }));

  if (deps.jobs) {
    const jobs = deps.jobs;
    app.use(createJobRouter(jobs));
    app.use(createPodRouter(jobs, { baseImage: () => knowledge.deployment?.topology.infrastructure.jobBaseImage }));
  }
  if (deps.systems) app.use(createSystemRouter(deps.systems), createTychoRouter(deps.systems));

  // Any path no route takes, inside /api or not (/POD, /system, a typo), is answered in JSON like every other error.
  app.use((req, res) => { sendError(res, 'not_found', `no route for ${req.method} ${req.originalUrl.slice(0, 200)}`); });
  app.use(errorMapper);
  return app;
}

function requireBody(req: Request): unknown {
  if (req.body === undefined) throw new ValidationError('', 'a JSON body is required');
  return req.body;
}

import type { RequestListener } from 'http';
import { Allocator } from './allocator';
import { DAEMON_DEFAULTS, DaemonConfig, localDockerOf } from './config';
import { EventBus } from './domain/events';
import { CloudConfig } from './domain/topology';
import { Resources } from './domain/resources';
import { DaemonState } from './drivers/open-state';
import { HookRefreshSchedule } from './drivers/git-hooks/hook-refresh-schedule';
import { GitHookSource } from './drivers/git-hooks/git-hook-source';
import { Metrics } from './drivers/prometheus/metrics';
import type { ChannelMessage } from './drivers/postgres/pg-event-channel';
import { ContainerHookRunner } from './executor/container-hook-runner';
import { buildApp } from './http/app';
import { PortSettings } from './http/daemon-port';
import { EventLog } from './http/event-stream';
import { LeaderView } from './http/standby-gate';
import { UiSessions } from './http/ui-session';
import { CloudDriver } from './ports/cloud-driver';
import { ContainerRuntimeFactory } from './ports/container-runtime';
import { Knowledge, Services } from './use-cases/cluster/knowledge';
import { DaemonLifecycle } from './use-cases/daemon/daemon-lifecycle';
import { DaemonReadiness } from './use-cases/daemon/daemon-readiness';
import { StandbyView } from './use-cases/daemon/standby-view';
import { RoleTerm } from './use-cases/daemon/role-switch';
import { ExecutionRetention } from './use-cases/execution/execution-retention';
import { PlanExecutions } from './use-cases/execution/plan-executions';
import { SerialQueue } from './use-cases/execution/serial-queue';
import { healthReporting } from './use-cases/nodes/heal-nodes';
import { NodeAdmin } from './use-cases/nodes/node-admin';
import { NodeHealthLoop } from './use-cases/nodes/node-health';
import { NodeLoops } from './use-cases/nodes/node-loops';
import { NodeVolumes } from './use-cases/nodes/node-volumes';
import { Reconciler, ReconcileLoop } from './use-cases/nodes/reconcile';
import { SystemBook } from './use-cases/systems/system-book';
import { Systems } from './use-cases/systems/systems';
import { HookRefresh } from './use-cases/topology/hook-refresh';
import { TopologyRestore } from './use-cases/topology/restore-topology';
import { topologyFile } from './drivers/topology-file';
import { log } from './log';
import { errorMessage } from './domain/errors';
import { JobStore } from './ports/job-store';
import { FleetFollowsQueue, FleetOptions } from './use-cases/jobs/fleet-follows-queue';
import { JobView } from './use-cases/jobs/job-holdings';
import { JobImages } from './use-cases/jobs/job-images';
import { JobRunner } from './use-cases/jobs/job-runner';
import { JobScheduler } from './use-cases/jobs/job-scheduler';
import { JobTemplates, TemplateImages } from './use-cases/jobs/job-templates';
import { Jobs } from './use-cases/jobs/jobs';

/** What lives as long as the process, whatever its role: built once by main.ts. */
export interface DaemonShared {
  config: Pick<DaemonConfig, 'stateDir'> & Partial<DaemonConfig>;
  settings: PortSettings;
  state: DaemonState;
  events: EventBus;
  eventLog: EventLog;
  metrics: Metrics;
  allocator: Allocator;
  hookSource: GitHookSource;
  systemBook: SystemBook;
  sessions?: UiSessions;
  /** The clients that act: on PostgreSQL every call first checks that this daemon leads (drivers/lead-guard.ts). */
  acting: { runtimeFor: ContainerRuntimeFactory; cloudFor(config: CloudConfig, vmSize: Resources): Promise<CloudDriver> };
  /** Clients that can only read (drivers/lead-guard.ts `readOnlyCalls`): a standby's view of the fleet. */
  reading: { runtimeFor: ContainerRuntimeFactory; cloudFor(config: CloudConfig, vmSize: Resources): Promise<CloudDriver> };
  /** On PostgreSQL: who leads, and the events' channel between the daemons. */
  leader?: () => Promise<LeaderView | undefined>;
  channel?: { notify(seq: number, event: ChannelMessage['event']): void; listen(onMessage: (m: ChannelMessage) => void): () => Promise<void> };
  /** How jobs get their images (default JobImages), and, for tests, a stand-in for the jobs' view and the fleet's pace. */
  jobOptions?: { templateImages?: (runtimeFor: ContainerRuntimeFactory) => TemplateImages; jobView?: JobView; fleet?: FleetOptions };
  /** Has the allocator compile its solver in the background, once (a leader's term asks). */
  warmUp(): void;
}

/**
 * One role of the daemon, from the moment it takes it until it gives it up: its app, and the
 * knowledge and use cases behind it. A daemon that changes role builds a new term from scratch, so
 * nothing one role knew in memory leaks into the next (SPEC §12: a new leader starts as a restarted
 * daemon does).
 */
export interface Term extends RoleTerm {
  app: RequestListener;
  knowledge: Knowledge;
  services: Services;
  /** The jobs of this term: a leader's queue runs them, a standby's only reads them. */
  jobs: Jobs;
  /** What plans and the fleet see of the jobs. */
  jobView: JobView;
  queueDepth(): number;
}

/** The jobs' parts (SPEC §10): templates, the queue and its runner, and the facade the HTTP layer uses. */
function buildJobs(shared: DaemonShared, knowledge: Knowledge, runtimeFor: ContainerRuntimeFactory, store: JobStore): Jobs {
  const images = (shared.jobOptions?.templateImages ?? ((engines) => new JobImages(engines)))(runtimeFor);
  let scheduler: JobScheduler | undefined;
  const templates = new JobTemplates(store, images, () => Jobs.readyNodes(knowledge), {
    keepLogsKib: shared.config.jobLogKib ?? DAEMON_DEFAULTS.jobLogKib,
    // A template that became ready (or was rejected) may start (or fail) its queued jobs.
    onChange: () => scheduler?.poke(),
  });
  scheduler = new JobScheduler(knowledge, runtimeFor, store, templates, new JobRunner(runtimeFor, images, store), shared.events, {
    observeQueueWait: (seconds) => shared.metrics.observeJobQueueWait(seconds),
  });
  return new Jobs(knowledge, runtimeFor, store, templates, scheduler, shared.state.processDefinitions);
}

function baseServices(shared: DaemonShared): Omit<Services, 'runtimeFor' | 'cloudFor'> {
  const { config, state, hookSource, systemBook } = shared;
  return {
    allocator: shared.allocator,
    hookSource,
    hookRunner: new ContainerHookRunner({ source: hookSource, definitions: state.processDefinitions }),
    topologies: state.topologies,
    executions: state.executions,
    processDefinitions: state.processDefinitions,
    localDocker: config.localDocker ?? localDockerOf(),
    allowBindRoot: config.allowBind,
    systemContainers: {
      hostPortRange: config.hostPorts ?? { ...DAEMON_DEFAULTS.hostPorts }, ledger: systemBook,
      healthyTimeoutMs: config.systemReadyTimeoutMs ?? DAEMON_DEFAULTS.systemReadyTimeoutMs,
    },
    nodeStates: state.nodeStates,
  };
}

/** The leader's term: what a daemon on its own always is. Its loops start with the topology it restores. */
export function composeLeaderTerm(shared: DaemonShared, epoch?: number): Term {
  const { config, events, eventLog, channel } = shared;
  const knowledge = new Knowledge();
  const queue = new SerialQueue();
  const jobs = buildJobs(shared, knowledge, shared.acting.runtimeFor, shared.state.jobs);
  const jobView = shared.jobOptions?.jobView ?? jobs.scheduler;
  const useCaseServices: Services = {
    ...baseServices(shared), ...shared.acting,
    hookSchedule: new HookRefresh(new HookRefreshSchedule(), shared.hookSource, queue),
    jobs: jobView,
  };
  const executions = new PlanExecutions(knowledge, useCaseServices, queue, events);
  const nodeLoops = new NodeLoops(
    new NodeHealthLoop(knowledge, useCaseServices, queue, healthReporting(knowledge, queue, executions.intake, events, jobView)),
    new ReconcileLoop(knowledge, new Reconciler(knowledge, useCaseServices, queue, executions.intake)),
    new FleetFollowsQueue(knowledge, useCaseServices, executions.intake, shared.jobOptions?.fleet),
  );
  // Loading a topology (re)starts the node pool's loops.
  const services: Services = { ...useCaseServices, nodeLoops };
  const readyTimeoutMs = config.systemReadyTimeoutMs ?? DAEMON_DEFAULTS.systemReadyTimeoutMs;
  const systems = new Systems(knowledge, services, queue, executions.intake, { book: shared.systemBook, allowBindRoot: config.allowBind, readyTimeoutMs });
  const nodeAdmin = new NodeAdmin(knowledge, services, executions.intake, events);
  const retention = new ExecutionRetention(services.executions, {
    days: config.executionRetentionDays ?? DAEMON_DEFAULTS.executionRetentionDays, count: config.executionRetentionCount ?? DAEMON_DEFAULTS.executionRetentionCount,
  }, undefined, shared.state.topologies, shared.state.jobs);
  // An engine that is down at start is retried, not fatal.
  const restore = new TopologyRestore(knowledge, services, queue, { initialDocument: topologyFile(config.topologyFile) });
  const readiness = new DaemonReadiness(knowledge, restore, () => shared.state.check());
  const lifecycle = new DaemonLifecycle({
    readiness, restore, retention, nodeAdmin, executions, systems, queue, nodeLoops, hookSchedule: services.hookSchedule,
    jobs: { start: async () => { await jobs.templates.load(); await jobs.scheduler.start(); }, stop: () => jobs.scheduler.stop() },
    shutdownTimeoutMs: (config.shutdownTimeoutS ?? DAEMON_DEFAULTS.shutdownTimeoutS) * 1000,
    release: [],
  });
  const app = buildApp({
    knowledge, services, queue, executions, events, metrics: shared.metrics, systems, readiness, jobs,
    access: shared.settings.access,
    allowedHosts: shared.settings.allowedHosts,
    nodes: { knowledge, admin: nodeAdmin, volumes: new NodeVolumes(knowledge, services) },
    acceptingPlans: () => readiness.acceptingPlans,
    leader: shared.leader,
    sessions: shared.sessions,
    eventLog,
  });
  let unnotify: (() => void) | undefined;
  return {
    role: 'leader', epoch, app, knowledge, services, jobs, jobView,
    queueDepth: () => queue.size,
    async prepare() {
      shared.warmUp();
      // Every event this leader publishes goes to the standbys too, with its id.
      if (channel) unnotify = eventLog.subscribe((entry) => channel.notify(entry.seq, entry.event));
      // What another leader may have changed meanwhile is read again (systems, on PostgreSQL).
      await shared.state.readAgain?.('leader').catch((e) => log.error({ err: errorMessage(e) }, 'the new leader could not read the systems again: it serves those it read before'));
      await lifecycle.prepare();
    },
    // The port belongs to the process, not to the term: the term has none to close.
    serve: () => lifecycle.serving({ close: async () => undefined }),
    async stop(how) {
      if (how === 'lost') {
        // What this daemon does from now on is not the fleet's story any more.
        unnotify?.();
        void executions.shutdown(0);
      }
      await lifecycle.close();
      unnotify?.();
    },
  };
}

/**
 * A standby's term (SPEC §12): the same app, every change answered by the role gate, every read
 * served from the database and from a view of the fleet read through clients that cannot change
 * anything (StandbyView); the leader's events, heard on the channel, go out on `/api/events` with
 * their ids and tell the view to read the fleet again. No execution, loop or schedule runs.
 */
export function composeStandbyTerm(shared: DaemonShared): Term {
  const { config, events, eventLog, channel, state } = shared;
  const knowledge = new Knowledge();
  const queue = new SerialQueue();
  const services: Services = { ...baseServices(shared), ...shared.reading };
  // Its queue never starts: the routes read the jobs from the database.
  const jobs = buildJobs(shared, knowledge, shared.reading.runtimeFor, state.jobs);
  // Built for the routes' sake only: the role gate answers every change before it reaches them.
  const executions = new PlanExecutions(knowledge, services, queue, events);
  const systems = new Systems(knowledge, services, queue, executions.intake, {
    book: shared.systemBook, allowBindRoot: config.allowBind, readyTimeoutMs: config.systemReadyTimeoutMs ?? DAEMON_DEFAULTS.systemReadyTimeoutMs,
  });
  const nodeAdmin = new NodeAdmin(knowledge, services, executions.intake, events);
  const view = new StandbyView(knowledge, services);
  const readiness = {
    checks: () => {
      let database = { ok: true } as { ok: boolean; detail?: string };
      try { state.check(); } catch (e) { database = { ok: false, detail: (e as Error).message }; }
      return { database, leader: { ok: false, detail: 'standing by: another daemon leads, or none does yet' } };
    },
  };
  const app = buildApp({
    knowledge, services, queue, executions, events, metrics: shared.metrics, systems, readiness, jobs,
    access: shared.settings.access,
    allowedHosts: shared.settings.allowedHosts,
    nodes: { knowledge, admin: nodeAdmin, volumes: new NodeVolumes(knowledge, services) },
    leader: shared.leader,
    role: 'standby',
    beforeReads: () => view.fresh(),
    sessions: shared.sessions,
    eventLog,
  });
  let unlisten: (() => Promise<void>) | undefined;
  return {
    role: 'standby', app, knowledge, services, jobs, jobView: jobs.scheduler,
    queueDepth: () => 0,
    async prepare() {
      knowledge.restorePending('this standby is reading the topology and the fleet');
    },
    async serve() {
      // Read in the background: a standby takes its role even while the database does not answer.
      void state.readAgain?.('standby').catch((e) => log.warn({ err: errorMessage(e) }, 'a standby could not read the systems again'));
      void jobs.templates.load().catch((e) => log.warn({ err: errorMessage(e) }, 'a standby could not read the job templates'));
      unlisten = channel?.listen(({ seq, event }) => {
        eventLog.relayed(seq, event);
        if (event.type === 'node' || (event.type === 'execution' && event.status !== 'queued' && event.status !== 'running')) {
          view.changed();
          // Systems are served from memory: read them again when the leader's execution ends.
          void state.readAgain?.('standby').catch(() => undefined);
        }
        if (event.type === 'job') void jobs.templates.load().catch(() => undefined);
      });
      await view.start();
    },
    async stop() {
      await unlisten?.();
      await view.stop();
    },
  };
}

import { RequestListener, Server } from 'http';
import * as path from 'path';
import { createThreadedAllocator, timedAllocator } from './allocator';
import { DAEMON_DEFAULTS, DaemonConfig, readSolverThreads } from './config';
import { RUNTIME_DRIVERS, runtimesByEngine } from './drivers/runtime-drivers';
import { EngineEndpoint, EngineKind } from './domain/vm';
import { ContainerRuntime, RuntimeDriver } from './ports/container-runtime';
import { cloudsByType } from './drivers/cloud-drivers';
import { EventBus } from './domain/events';
import { errorMessage } from './domain/errors';
import { Metrics } from './drivers/prometheus/metrics';
import { openState } from './drivers/open-state';
import { guardCalls, labelWithEpoch, readOnlyCalls } from './drivers/lead-guard';
import { GitHookSource } from './drivers/git-hooks/git-hook-source';
import { EventLog } from './http/event-stream';
import { OpenPort, openPort, portSettings } from './http/daemon-port';
import { UiSessions } from './http/ui-session';
import { log } from './log';
import { logEvents } from './use-cases/daemon/event-log';
import { Knowledge, Services } from './use-cases/cluster/knowledge';
import { countNodesByHealth } from './use-cases/nodes/read-nodes';
import { SystemBook } from './use-cases/systems/system-book';
import { composeLeaderTerm, composeStandbyTerm, DaemonShared, Term } from './daemon-terms';
import { RoleSwitch } from './use-cases/daemon/role-switch';
import { packageVersion } from './version';
import { ContainerRuntimeFactory } from './ports/container-runtime';
import { JobView } from './use-cases/jobs/job-holdings';
import type { Jobs } from './use-cases/jobs/jobs';
import type { FleetOptions } from './use-cases/jobs/fleet-follows-queue';
import type { TemplateImages } from './use-cases/jobs/job-templates';

export { StartupError } from './http/daemon-port';

/** Each runtime driver's runtimes, every call of theirs wrapped (drivers/lead-guard.ts). */
function wrappedDrivers(drivers: Readonly<Record<EngineKind, RuntimeDriver>>, wrap: (runtime: ContainerRuntime) => ContainerRuntime): Record<EngineKind, RuntimeDriver> {
  return Object.fromEntries(Object.entries(drivers).map(([kind, driver]) => [kind, (engine: EngineEndpoint) => wrap(driver(engine))])) as Record<EngineKind, RuntimeDriver>;
}

export interface Daemon {
  url: string;
  /** The knowledge and use cases of the role the daemon has now (a new role starts them afresh). */
  readonly knowledge: Knowledge;
  readonly services: Services;
  /** Every execution and action transition this daemon makes, as it happens. */
  events: EventBus;
  metrics: Metrics;
  /** Job templates and jobs (SPEC §10), as the term in force has them. */
  readonly jobs: Jobs;
  /** What running jobs hold and queued ones wait for, for plans and the fleet. */
  readonly jobView: JobView;
  /**
   * Resolves when the daemon serves its role (the port is open before): a leader once its state is
   * restored, a standby once it has read the fleet.
   */
  ready: Promise<void>;
  /** On PostgreSQL `leader` or `standby`, as it serves now; a daemon on its own always leads. */
  role(): 'leader' | 'standby';
  /**
   * Stops taking plans (503), lets the running execution finish within `shutdownTimeoutS` (then
   * stops it: what did not run is marked), cancels the queued ones, closes the port and the state
   * (on PostgreSQL, releasing the lease).
   */
  close(): Promise<void>;
}

/**
 * Composition root: builds what lives as long as the process (drivers, stores, the port, the event
 * log) and the term of each role (daemon-terms.ts). What starts and stops in which order within a
 * term is the DaemonLifecycle's (use-cases/daemon/daemon-lifecycle.ts): the port opens first
 * (`/livez` answers from then on), then the state is restored. `/readyz` tells when that is done.
 *
 * On PostgreSQL the daemon stands by until it takes the lease, leads while it holds it, and stands
 * by again when it loses it, in the same process (SPEC §12): each change of role ends one term and
 * builds the next; the port, the event log and the page's sessions stay.
 */
export async function startDaemon(
  config: Pick<DaemonConfig, 'port' | 'stateDir'> & Partial<DaemonConfig>,
  /**
   * `server`: one already listening on the configured port and host (src/http/early-listener.ts), taken over.
   * `waitReady` (default true): resolve once the daemon is ready; on PostgreSQL, once it leads and is ready.
   */
  options: {
    waitReady?: boolean;
    server?: Server;
    /** How jobs get their images onto nodes (use-cases/jobs/job-templates.ts); default: from engine to engine (use-cases/jobs/job-images.ts). */
    templateImages?: (runtimeFor: ContainerRuntimeFactory) => TemplateImages;
    /** What plans and the fleet see of the jobs, in place of the scheduler's (tests that stand for jobs themselves). */
    jobView?: JobView;
    /** How the fleet follows the job queue (its pace; for tests). */
    fleet?: FleetOptions;
  } = {},
): Promise<Daemon> {
  const stateDir = path.resolve(config.stateDir);
  const settings = portSettings(config, DAEMON_DEFAULTS.host);
  const state = await openState({ ...config, stateDir });
  const lease = state.lease;
  const mayAct = lease ? () => lease.role === 'leader' : undefined;

  let current: Term | undefined;
  const events = new EventBus();
  const metrics = new Metrics({
    version: process.env.npm_package_version ?? packageVersion(),
    queueDepth: () => current?.queueDepth() ?? 0,
    nodes: () => (current ? countNodesByHealth(current.knowledge) : {}),
  });
  const allocator = createThreadedAllocator({
    timeLimitMs: config.solverTimeLimitMs ?? DAEMON_DEFAULTS.solverTimeLimitMs,
    solverThreads: config.solverThreads ?? readSolverThreads(undefined),
  });
  // The solver is compiled ahead (seconds of CPU) by a daemon that leads: a standby may never solve.
  let warming: Promise<void> | undefined;
  const warmUp = () => { warming ??= allocator.warmUp(); };
  // What the leader creates is labelled with its epoch (which daemon made what).
  const actingRuntimes = runtimesByEngine(lease && mayAct
    ? wrappedDrivers(RUNTIME_DRIVERS, (runtime) => guardCalls(labelWithEpoch(runtime, () => lease.currentFence?.epoch), mayAct))
    : RUNTIME_DRIVERS);
  const actingClouds = cloudsByType(actingRuntimes);
  const readingRuntimes = runtimesByEngine(wrappedDrivers(RUNTIME_DRIVERS, readOnlyCalls));
  const readingClouds = cloudsByType(readingRuntimes);
  const shared: DaemonShared = {
    config: { ...config, stateDir },
    settings,
    state,
    events,
    eventLog: new EventLog(events, undefined, state.eventStream),
    metrics,
    allocator: timedAllocator(allocator, (seconds) => metrics.observeSolve(seconds)),
    hookSource: new GitHookSource(path.join(stateDir, 'hooks-repo')),
    systemBook: new SystemBook(state.systems),
    sessions: settings.access ? new UiSessions(settings.access) : undefined,
    acting: {
      runtimeFor: actingRuntimes,
      cloudFor: async (cloud, vmSize) => (mayAct ? guardCalls(await actingClouds(cloud, vmSize), mayAct) : actingClouds(cloud, vmSize)),
    },
    reading: { runtimeFor: readingRuntimes, cloudFor: async (cloud, vmSize) => readOnlyCalls(await readingClouds(cloud, vmSize)) },
    leader: lease ? () => lease.leader() : undefined,
    channel: state.channel,
    jobOptions: { templateImages: options.templateImages, jobView: options.jobView, fleet: options.fleet },
    warmUp,
  };
  // The jobs' gauges read the term in force (a new term has a new queue).
  metrics.followJobs({
    counts: () => current?.jobs.scheduler.metrics().counts ?? {},
    demand: () => current?.jobs.scheduler.metrics().demand ?? { cores: 0, mem_units: 0 },
    oldestQueuedSeconds: () => current?.jobs.scheduler.metrics().oldestQueuedSeconds ?? 0,
  });
  const unfollowMetrics = metrics.follow(events);
  const unfollowLog = logEvents(events);
  // The state first: on PostgreSQL closing it releases the lease, and a standby takes over at once,
  // even while the solver's thread finishes a compile under way (which cannot be interrupted).
  const release = async () => {
    unfollowMetrics();
    unfollowLog();
    shared.eventLog.close();
    await state.close();
    await allocator.close();
  };

  const dispatch: RequestListener = (req, res) => {
    if (current) {
      current.app(req, res);
      return;
    }
    req.resume();
    res.writeHead(503, { 'content-type': 'application/json; charset=utf-8', 'retry-after': '1' });
    res.end(JSON.stringify({ error: 'the daemon is starting: it is finding out whether it leads', code: 'starting' }));
  };
  const about = { state_dir: stateDir, imported: state.imported, state: state.backend };

  if (!lease) {
    // One daemon: it leads for as long as it runs.
    const term = composeLeaderTerm(shared);
    await term.prepare();
    current = term;
    const port = await openPort(dispatch, settings, config.port, options.server, about)
      .catch(async (e) => { await term.stop('shutdown'); await release(); throw e; });
    const ready = term.serve();
    ready.catch((e) => log.error({ err: errorMessage(e) }, 'restoring the state failed'));
    if (options.waitReady !== false) await ready;
    let closing: Promise<void> | undefined;
    return daemonOf(port.url, shared, () => current!, ready, () => {
      closing ??= (async () => { await term.stop('shutdown'); await port.close(); await release(); })();
      return closing;
    });
  }

  let port: OpenPort;
  try {
    port = await openPort(dispatch, settings, config.port, options.server, about);
  } catch (e) {
    await release();
    throw e;
  }
  const roles = new RoleSwitch<Term>(lease, {
    leader: (epoch) => {
      shared.eventLog.beginTerm(epoch);
      return composeLeaderTerm(shared, epoch);
    },
    standby: () => composeStandbyTerm(shared),
  }, (term) => { current = term; });
  await lease.start();
  void roles.settle();
  if (options.waitReady !== false) await roles.leading;
  let closing: Promise<void> | undefined;
  return daemonOf(port.url, shared, () => current!, roles.serving, () => {
    closing ??= (async () => {
      await roles.close();
      await port.close();
      await release();
    })();
    return closing;
  });
}

/** The daemon's handle: what it knows is that of the term in force when asked. */
function daemonOf(url: string, shared: Pick<DaemonShared, 'events' | 'metrics'>, term: () => Term, ready: Promise<void>, close: () => Promise<void>): Daemon {
  return {
    url,
    get knowledge() { return term().knowledge; },
    get services() { return term().services; },
    get jobs() { return term().jobs; },
    get jobView() { return term().jobView; },
    events: shared.events,
    metrics: shared.metrics,
    ready,
    role: () => term().role,
    close,
  };
}

import { Server } from 'http';
import * as path from 'path';
import { createThreadedAllocator, timedAllocator } from './allocator';
import { DAEMON_DEFAULTS, DaemonConfig, localDockerOf, readSolverThreads } from './config';
import { RUNTIME_DRIVERS, runtimesByEngine } from './drivers/runtime-drivers';
import { EngineEndpoint, EngineKind } from './domain/vm';
import { RuntimeDriver } from './ports/container-runtime';
import { cloudsByType } from './drivers/cloud-drivers';
import { topologyFile } from './drivers/topology-file';
import { EventBus } from './domain/events';
import { Metrics } from './drivers/prometheus/metrics';
import { openState } from './drivers/open-state';
import { guardCalls, labelWithEpoch } from './drivers/lead-guard';
import { standbyAnswers } from './http/standby-answers';
import { GitHookSource } from './drivers/git-hooks/git-hook-source';
import { HookRefreshSchedule } from './drivers/git-hooks/hook-refresh-schedule';
import { ContainerHookRunner } from './executor/container-hook-runner';
import { buildApp } from './http/app';
import { openPort, portSettings } from './http/daemon-port';
import { DaemonLifecycle } from './use-cases/daemon/daemon-lifecycle';
import { logEvents } from './use-cases/daemon/event-log';
import { healthReporting } from './use-cases/nodes/heal-nodes';
import { Knowledge, Services } from './use-cases/cluster/knowledge';
import { NodeAdmin } from './use-cases/nodes/node-admin';
import { NodeVolumes } from './use-cases/nodes/node-volumes';
import { NodeHealthLoop } from './use-cases/nodes/node-health';
import { NodeLoops } from './use-cases/nodes/node-loops';
import { countNodesByHealth } from './use-cases/nodes/read-nodes';
import { Reconciler, ReconcileLoop } from './use-cases/nodes/reconcile';
import { SystemBook } from './use-cases/systems/system-book';
import { Systems } from './use-cases/systems/systems';
import { HookRefresh } from './use-cases/topology/hook-refresh';
import { TopologyRestore } from './use-cases/topology/restore-topology';
import { DaemonReadiness } from './use-cases/daemon/daemon-readiness';
import { ExecutionRetention } from './use-cases/execution/execution-retention';
import { PlanExecutions } from './use-cases/execution/plan-executions';
import { SerialQueue } from './use-cases/execution/serial-queue';
import { packageVersion } from './version';

export { StartupError } from './http/daemon-port';

/**
 * Each runtime driver's runtimes, every call of theirs first asking `mayAct`, what they create
 * labelled with the leader's epoch (drivers/lead-guard.ts).
 */
function guardedDrivers(drivers: Readonly<Record<EngineKind, RuntimeDriver>>, mayAct: () => boolean, epoch: () => number | undefined): Record<EngineKind, RuntimeDriver> {
  return Object.fromEntries(Object.entries(drivers).map(([kind, driver]) =>
    [kind, (engine: EngineEndpoint) => guardCalls(labelWithEpoch(driver(engine), epoch), mayAct)])) as Record<EngineKind, RuntimeDriver>;
}

export interface Daemon {
  url: string;
  knowledge: Knowledge;
  services: Services;
  /** Every execution and action transition, as it happens. */
  events: EventBus;
  metrics: Metrics;
  /** Resolves when the state is restored (the port is open before). */
  ready: Promise<void>;
  /**
   * On PostgreSQL: resolves with the reason when this daemon stops leading (its lease was not
   * renewed in time, or was taken over). By then it has stopped acting: no plan is taken, the
   * running execution is stopped before its next action, and its writes are refused.
   */
  lostLead: Promise<string>;
  /**
   * Stops taking plans (503), lets the running execution finish within `shutdownTimeoutS` (then
   * stops it: what did not run is marked), cancels the queued ones, and closes the state.
   */
  close(): Promise<void>;
}

/**
 * Composition root: builds the drivers, stores and use cases and wires them. What starts and stops
 * in which order is the DaemonLifecycle's (use-cases/daemon/daemon-lifecycle.ts): the port opens first
 * (`/livez` answers from then on), then the state is restored: executions a stopped daemon left
 * unfinished, the persisted topology (rebuilding the allocation from the engines). `/readyz` tells
 * when that is done.
 */
export async function startDaemon(
  config: Pick<DaemonConfig, 'port' | 'stateDir'> & Partial<DaemonConfig>,
  /** `server`: one already listening on the configured port and host (src/http/early-listener.ts), taken over. */
  options: { waitReady?: boolean; server?: Server } = {},
): Promise<Daemon> {
  const stateDir = path.resolve(config.stateDir);
  const settings = portSettings(config, DAEMON_DEFAULTS.host);
  const state = await openState({ ...config, stateDir }, {
    // On PostgreSQL, until this daemon leads, the port answers as a standby's (src/http/standby-answers.ts).
    whileStandingBy: (lease) => {
      if (!options.server) return;
      options.server.removeAllListeners('request');
      options.server.on('request', standbyAnswers(() => lease.leader()));
    },
  });
  // On PostgreSQL every engine and cloud call first checks that this daemon still leads (drivers/lead-guard.ts).
  const lease = state.lease;
  const mayAct = lease ? () => lease.role === 'leader' : undefined;
  const systemBook = new SystemBook(state.systems);
  const readyTimeoutMs = config.systemReadyTimeoutMs ?? DAEMON_DEFAULTS.systemReadyTimeoutMs;

  const runtimeFor = runtimesByEngine(lease && mayAct ? guardedDrivers(RUNTIME_DRIVERS, mayAct, () => lease.currentFence?.epoch) : RUNTIME_DRIVERS);
  const clouds = cloudsByType(runtimeFor);
  const knowledge = new Knowledge();
  const allocator = createThreadedAllocator({
    timeLimitMs: config.solverTimeLimitMs ?? DAEMON_DEFAULTS.solverTimeLimitMs,
    solverThreads: config.solverThreads ?? readSolverThreads(undefined),
  });
  void allocator.warmUp();
  const hookSource = new GitHookSource(path.join(stateDir, 'hooks-repo'));
  const events = new EventBus();
  const queue = new SerialQueue();
  const metrics = new Metrics({
    version: process.env.npm_package_version ?? packageVersion(),
    queueDepth: () => queue.size,
    nodes: () => countNodesByHealth(knowledge),
  });
  const unfollowMetrics = metrics.follow(events);
  const unfollowLog = logEvents(events);
  const useCaseServices: Services = {
    allocator: timedAllocator(allocator, (seconds) => metrics.observeSolve(seconds)),
    runtimeFor,
    cloudFor: mayAct ? async (cloud, vmSize) => guardCalls(await clouds(cloud, vmSize), mayAct) : clouds,
    hookSource,
    hookRunner: new ContainerHookRunner({ source: hookSource, definitions: state.processDefinitions }),
    topologies: state.topologies,
    executions: state.executions,
    processDefinitions: state.processDefinitions,
    localDocker: config.localDocker ?? localDockerOf(),
    allowBindRoot: config.allowBind,
    hookSchedule: new HookRefresh(new HookRefreshSchedule(), hookSource, queue),
    systemContainers: { hostPortRange: config.hostPorts ?? { ...DAEMON_DEFAULTS.hostPorts }, ledger: systemBook, healthyTimeoutMs: readyTimeoutMs },
    nodeStates: state.nodeStates,
  };

  const executions = new PlanExecutions(knowledge, useCaseServices, queue, events);
  const nodeLoops = new NodeLoops(
    new NodeHealthLoop(knowledge, useCaseServices, queue, healthReporting(knowledge, queue, executions.intake, events)),
    new ReconcileLoop(knowledge, new Reconciler(knowledge, useCaseServices, queue, executions.intake)),
  );
  // Loading a topology (re)starts the node pool's loops.
  const services: Services = { ...useCaseServices, nodeLoops };
  const systems = new Systems(knowledge, services, queue, executions.intake, { book: systemBook, allowBindRoot: config.allowBind, readyTimeoutMs });
  const nodeAdmin = new NodeAdmin(knowledge, services, executions.intake, events);
  const retention = new ExecutionRetention(services.executions, {
    days: config.executionRetentionDays ?? DAEMON_DEFAULTS.executionRetentionDays, count: config.executionRetentionCount ?? DAEMON_DEFAULTS.executionRetentionCount,
  }, undefined, state.topologies);
  // An engine that is down at start is retried, not fatal.
  const restore = new TopologyRestore(knowledge, services, queue, { initialDocument: topologyFile(config.topologyFile) });
  const readiness = new DaemonReadiness(knowledge, restore, () => state.check());
  const lifecycle = new DaemonLifecycle({
    readiness, restore, retention, nodeAdmin, executions, systems, queue, nodeLoops, hookSchedule: services.hookSchedule,
    shutdownTimeoutMs: (config.shutdownTimeoutS ?? DAEMON_DEFAULTS.shutdownTimeoutS) * 1000,
    // The state (and the lease, released for a standby to take over) before the allocator, whose
    // worker may still be compiling its solver and take seconds to stop.
    release: [unfollowMetrics, unfollowLog, () => state.close(), () => allocator.close()],
  });

  const app = buildApp({
    knowledge, services, queue, executions, events, metrics, systems, readiness,
    access: settings.access,
    allowedHosts: settings.allowedHosts,
    nodes: { knowledge, admin: nodeAdmin, volumes: new NodeVolumes(knowledge, services) },
    acceptingPlans: () => readiness.acceptingPlans,
    leader: lease ? () => lease.leader() : undefined,
  });

  await lifecycle.prepare();
  const port = await openPort(app, settings, config.port, options.server, { state_dir: stateDir, imported: state.imported })
    .catch(async (e) => { await lifecycle.abandon(); throw e; });
  const ready = lifecycle.serving(port);
  // The port answers /livez meanwhile; callers that want the daemon's handle at once pass `waitReady: false`.
  if (options.waitReady !== false) await ready;
  // A leader that stops leading acts no more: the running execution is stopped at once.
  const lostLead = new Promise<string>((resolve) => {
    lease?.onLost((reason) => {
      void executions.shutdown(0);
      void lifecycle.close();
      resolve(reason);
    });
  });
  return { url: port.url, knowledge, services, events, metrics, ready, lostLead, close: () => lifecycle.close() };
}

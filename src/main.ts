import { promises as fs, readFileSync } from 'fs';
import { createServer as createHttpServer, Server } from 'http';
import { createServer as createHttpsServer } from 'https';
import { AddressInfo } from 'net';
import * as path from 'path';
import { createThreadedAllocator } from './allocator';
import { DAEMON_DEFAULTS, DaemonConfig, localDockerOf } from './config';
import { CloudConfig } from './domain/topology';
import { Resources } from './domain/resources';
import { DockerEndpoint } from './domain/vm';
import { errorMessage } from './domain/errors';
import { createDockerRuntime } from './drivers/docker/docker-container-runtime';
import { EventBus } from './domain/events';
import { Metrics } from './drivers/prometheus/metrics';
import { openState } from './drivers/open-state';
import { guardCalls } from './drivers/lead-guard';
import { FileNodeStateStore } from './drivers/fs/file-node-state-store';
import { FileSystemStore } from './drivers/fs/file-system-store';
import { GitHookSource } from './drivers/git-hooks/git-hook-source';
import { HookRefreshSchedule } from './drivers/git-hooks/hook-refresh-schedule';
import { StaticCloudDriver } from './drivers/static/static-cloud-driver';
import { ContainerHookRunner } from './executor/container-hook-runner';
import { AccessControl, isLoopback, TokensFileError } from './http/access';
import { buildApp } from './http/app';
import { standbyAnswers } from './http/standby-answers';
import { log } from './log';
import { CloudDriver } from './ports/cloud-driver';
import { ContainerRuntime } from './ports/container-runtime';
import { healLostNode } from './use-cases/heal-nodes';
import { Knowledge, Services } from './use-cases/knowledge';
import { NodeAdmin } from './use-cases/node-admin';
import { NodeVolumes } from './use-cases/node-volumes';
import { NodeHealthLoop } from './use-cases/node-health';
import { NodeLoops } from './use-cases/node-loops';
import { Reconciler, ReconcileLoop, repairDecision } from './use-cases/reconcile';
import { Systems } from './use-cases/systems';
import { HookRefresh } from './use-cases/hook-refresh';
import { TopologyRestore } from './use-cases/restore-topology';
import { DaemonReadiness } from './use-cases/daemon-readiness';
import { ExecutionRetention } from './use-cases/execution-retention';
import { PlanExecutions } from './use-cases/plan-executions';
import { SerialQueue } from './use-cases/serial-queue';
import { packageVersion } from './version';

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

/** The daemon refuses to start as configured (open API beyond loopback, unusable tokens or certificates). */
export class StartupError extends Error {}

/**
 * Composition root: builds the drivers and stores, opens the port (`/livez` answers from then on),
 * then restores the state: executions a stopped daemon left unfinished, the persisted topology
 * (rebuilding the allocation from the engines). `/readyz` tells when that is done.
 */
export async function startDaemon(
  config: Pick<DaemonConfig, 'port' | 'stateDir'> & Partial<DaemonConfig>,
  /** `server`: one already listening on the configured port and host (src/http/early-listener.ts), taken over. */
  options: { waitReady?: boolean; server?: Server } = {},
): Promise<Daemon> {
  const stateDir = path.resolve(config.stateDir);
  const host = config.host ?? DAEMON_DEFAULTS.host;
  const access = config.tokensFile ? readTokens(config.tokensFile) : undefined;
  if (!access && !isLoopback(host) && !config.insecureNoAuth) {
    throw new StartupError(`refusing to listen on ${host} without --tokens-file: anyone who reaches the port could change the fleet (use --insecure-no-auth to do it anyway)`);
  }
  if (!!config.tlsCert !== !!config.tlsKey) throw new StartupError('--tls-cert and --tls-key go together');
  const tls = config.tlsCert && config.tlsKey ? { cert: readFileSync(config.tlsCert), key: readFileSync(config.tlsKey) } : undefined;
  const state = await openState({ ...config, stateDir }, {
    // On PostgreSQL, until this daemon leads, the port answers as a standby's (src/http/standby-answers.ts).
    whileStandingBy: (lease) => {
      if (!options.server) return;
      options.server.removeAllListeners('request');
      options.server.on('request', standbyAnswers(() => lease.leader()));
    },
  });
  const localDocker = config.localDocker ?? localDockerOf();
  const systemStore = await FileSystemStore.open(stateDir);
  const readyTimeoutMs = config.systemReadyTimeoutMs ?? DAEMON_DEFAULTS.systemReadyTimeoutMs;

  // On PostgreSQL every engine and cloud call first checks that this daemon still leads.
  const lease = state.lease;
  const mayAct = lease ? () => lease.role === 'leader' : undefined;
  const runtimes = new Map<string, ContainerRuntime>();
  const runtimeForEndpoint = (endpoint: DockerEndpoint): ContainerRuntime => {
    const key = `${endpoint.url}|${endpoint.certPath ?? ''}`;
    let runtime = runtimes.get(key);
    if (!runtime) runtimes.set(key, (runtime = mayAct ? guardCalls(createDockerRuntime(endpoint), mayAct) : createDockerRuntime(endpoint)));
    return runtime;
  };
  const knowledge = new Knowledge();
  const allocator = createThreadedAllocator({ timeLimitMs: config.solverTimeLimitMs ?? DAEMON_DEFAULTS.solverTimeLimitMs });
  void allocator.warmUp();
  const hookSource = new GitHookSource(path.join(stateDir, 'hooks-repo'));
  const processDefinitions = state.processDefinitions;
  const events = new EventBus();
  const queue = new SerialQueue();
  const metrics = new Metrics({
    version: process.env.npm_package_version ?? packageVersion(),
    queueDepth: () => queue.size,
    nodes: () => {
      const counts = { ready: 0, unreachable: 0, lost: 0 };
      for (const name of Object.keys(knowledge.deployment?.cluster ?? {})) {
        const node = knowledge.nodes.get(name);
        counts[node.lost ? 'lost' : node.health] += 1;
      }
      return counts;
    },
  });
  metrics.primeExecutions();
  const unfollowMetrics = metrics.follow(events);
  // One log line per execution status change, one at debug level per action change.
  const unfollowLog = events.subscribe((event) => {
    if (event.type === 'execution') log.info({ execution_id: event.id, kind: event.kind, status: event.status }, `execution ${event.status}`);
    else if (event.type === 'action') log.debug({ execution_id: event.execution_id, layer: event.layer, index: event.index, status: event.status }, event.description);
  });
  const unfollow = () => { unfollowMetrics(); unfollowLog(); };
  const timedAllocator = {
    allocate: async (problem: Parameters<typeof allocator.allocate>[0]) => {
      const started = process.hrtime.bigint();
      try {
        return await allocator.allocate(problem);
      } finally {
        metrics.observeSolve(Number(process.hrtime.bigint() - started) / 1e9);
      }
    },
  };
  const services: Services = {
    allocator: timedAllocator,
    runtimeFor: runtimeForEndpoint,
    // The AWS SDK takes longer to load than the rest of the daemon: only a topology on AWS loads it.
    cloudFor: async (cloud: CloudConfig, vmSize: Resources): Promise<CloudDriver> => {
      const driver: CloudDriver = cloud.type === 'static'
        ? new StaticCloudDriver(cloud, vmSize, runtimeForEndpoint)
        : new (await import('./drivers/aws/aws-cloud-driver')).AwsCloudDriver(cloud, vmSize, runtimeForEndpoint);
      return mayAct ? guardCalls(driver, mayAct) : driver;
    },
    hookSource,
    hookRunner: new ContainerHookRunner({
      source: hookSource,
      definitions: processDefinitions,
    }),
    topologies: state.topologies,
    executions: state.executions,
    processDefinitions,
    localDocker,
    allowBindRoot: config.allowBind,
    hookSchedule: new HookRefresh(new HookRefreshSchedule(), hookSource, queue),
    systemContainers: { hostPortRange: config.hostPorts ?? { ...DAEMON_DEFAULTS.hostPorts }, store: systemStore, healthyTimeoutMs: readyTimeoutMs },
    nodeStates: new FileNodeStateStore(stateDir),
  };

  const executions = new PlanExecutions(knowledge, services, queue, events);
  const systems = new Systems(knowledge, services, queue, { submit: (plan, options) => executions.submit(plan, options.kind) }, {
    store: systemStore, allowBindRoot: config.allowBind, readyTimeoutMs,
  });
  const nodeAdmin = new NodeAdmin(knowledge, services, (name, cordoned) => events.publish({ type: 'node', name, cordoned, at: new Date().toISOString() }));
  await nodeAdmin.restore();
  const reconciler = new Reconciler(knowledge, services, queue, async (prepare) => {
    const { done } = await executions.submitExecution({ kind: 'reconcile', prepare: () => repairDecision(knowledge, prepare) });
    const finished = await done;
    if (finished.status === 'succeeded') for (const drift of finished.drift ?? []) metrics.countDriftRepair(drift.kind);
    return finished;
  });
  const nodeLoops = new NodeLoops(
    new NodeHealthLoop(knowledge, services, queue, {
      onChange: (c) => events.publish({ type: 'node', name: c.name, health: c.health, at: new Date().toISOString() }),
      onLost: (name, { gone }) => {
        events.publish({ type: 'node', name, health: 'lost', at: new Date().toISOString() });
        void healLostNode(knowledge, queue, (request) => executions.submitExecution(request), name, { gone })
          .then((healed) => { if (healed) log.warn({ node: name, execution_id: healed.id, status: healed.status }, 'node lost: its tiers were placed elsewhere'); })
          .catch((e) => log.error({ node: name, err: errorMessage(e) }, 'healing a lost node failed'));
      },
    }),
    new ReconcileLoop(knowledge, reconciler),
  );
  services.nodeLoops = nodeLoops;

  const retention = new ExecutionRetention(services.executions, { days: config.executionRetentionDays ?? DAEMON_DEFAULTS.executionRetentionDays, count: config.executionRetentionCount ?? DAEMON_DEFAULTS.executionRetentionCount });
  retention.start();

  // Restore the persisted topology; an engine that is down at start is retried, not fatal.
  const restore = new TopologyRestore(knowledge, services, queue, {
    initialDocument: async () => (config.topologyFile ? JSON.parse(await fs.readFile(config.topologyFile, 'utf8')) : undefined),
  });
  restore.begin();
  const readiness = new DaemonReadiness(knowledge, restore, () => state.check());

  const app = buildApp({
    knowledge, services, queue, executions, events, metrics, access, systems,
    // Without tokens, only the names of this daemon are answered (DNS rebinding; src/http/host-guard.ts).
    allowedHosts: access ? undefined : [...(config.allowedHosts ?? []), ...(isWildcard(host) ? [] : [host])],
    nodes: { knowledge, admin: nodeAdmin, volumes: new NodeVolumes(knowledge, services) },
    readiness,
    acceptingPlans: () => readiness.acceptingPlans,
    leader: state.lease ? () => state.lease!.leader() : undefined,
  });
  const server: Server = options.server ?? (tls ? createHttpsServer(tls, app) : createHttpServer(app));
  try {
    if (options.server) {
      options.server.removeAllListeners('request');
      options.server.on('request', app);
    } else {
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(config.port, host, () => { server.off('error', reject); resolve(); });
      });
    }
  } catch (e) {
    await state.close();
    await allocator.close();
    throw e;
  }
  const address = server.address() as AddressInfo;
  const url = `${tls ? 'https' : 'http'}://${address.address.includes(':') ? `[${address.address}]` : address.address}:${address.port}`;
  log.info({ url, state_dir: stateDir, auth: access ? 'tokens' : 'none', tls: !!tls, imported: state.imported }, 'listening');

  const ready = (async () => {
    await retention.pruneNow();
    const interrupted = await executions.recoverInterrupted();
    if (interrupted > 0) log.warn({ interrupted }, 'marked executions a stopped daemon left unfinished as failed (interrupted)');
    readiness.executionsRecovered();
    await restore.run();
    readiness.topologyRestoreAttempted();
    const interruptedSystems = await systems.recoverInterrupted();
    if (interruptedSystems > 0) log.warn({ systems: interruptedSystems }, 'systems were left starting or deleting by a stopped daemon');
  })();
  ready.catch((e) => log.error({ err: errorMessage(e) }, 'restoring the state failed'));
  // The port answers /livez meanwhile; callers that want the daemon's handle at once pass `waitReady: false`.
  if (options.waitReady !== false) await ready;

  let closing: Promise<void> | undefined;
  const stop = (shutdownTimeoutMs: number): Promise<void> => {
    closing ??= (async () => {
      readiness.shuttingDown();
      restore.close();
      retention.stop();
      services.hookSchedule?.stop();
      nodeLoops.stop();
      await nodeLoops.settled();
      await ready.catch(() => undefined);
      // The port stays open while the running execution finishes: probes see 503 on /readyz,
      // plans get 503, reads still answer.
      await executions.shutdown(shutdownTimeoutMs);
      await queue.idle();
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      server.closeAllConnections();
      await closed;
      unfollow();
      await allocator.close();
      await state.close();
    })();
    return closing;
  };
  // A leader that stops leading acts no more: the running execution is stopped at once.
  const lostLead = new Promise<string>((resolve) => {
    state.lease?.onLost((reason) => {
      void executions.shutdown(0);
      void stop(0);
      resolve(reason);
    });
  });
  return {
    url,
    knowledge,
    services,
    events,
    metrics,
    ready,
    lostLead,
    close: () => stop((config.shutdownTimeoutS ?? DAEMON_DEFAULTS.shutdownTimeoutS) * 1000),
  };
}

function isWildcard(host: string): boolean {
  return host === '0.0.0.0' || host === '::' || host === '[::]';
}

/** An unusable tokens file is a refusal to start (exit 2), like the other startup checks. */
function readTokens(file: string): AccessControl {
  try {
    return AccessControl.fromFile(file);
  } catch (e) {
    throw e instanceof TokensFileError ? new StartupError(e.message) : e;
  }
}

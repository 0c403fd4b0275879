import { promises as fs } from 'fs';
import { Server } from 'http';
import { AddressInfo } from 'net';
import * as path from 'path';
import { createThreadedAllocator } from './allocator/threaded-allocator';
import { DaemonConfig } from './config';
import { CloudConfig } from './domain/topology';
import { Resources } from './domain/resources';
import { DockerEndpoint } from './domain/vm';
import { EventBus } from './domain/events';
import { AwsCloudDriver } from './drivers/aws/aws-cloud-driver';
import { createDockerRuntime } from './drivers/docker/docker-container-runtime';
import { FileExecutionStore } from './drivers/fs/file-execution-store';
import { FileSystemStore } from './drivers/fs/file-system-store';
import { DEFAULT_HEALTHY_TIMEOUT_MS, DEFAULT_HOST_PORT_RANGE } from './executor/system-containers';
import { Systems } from './use-cases/systems';
import { FileProcessDefinitionStore } from './drivers/fs/file-process-definition-store';
import { FileTopologyStore } from './drivers/fs/file-topology-store';
import { GitHookSource } from './drivers/git-hooks/git-hook-source';
import { HookRefreshSchedule } from './drivers/git-hooks/hook-refresh-schedule';
import { StaticCloudDriver } from './drivers/static/static-cloud-driver';
import { ContainerHookRunner } from './executor/container-hook-runner';
import { buildApp } from './http/app';
import { CloudDriver } from './ports/cloud-driver';
import { ContainerRuntime } from './ports/container-runtime';
import { Knowledge, Services } from './use-cases/knowledge';
import { HookRefresh } from './use-cases/hook-refresh';
import { PlanExecutions } from './use-cases/plan-executions';
import { TopologyRestore } from './use-cases/restore-topology';
import { FileNodeStateStore } from './drivers/fs/file-node-state-store';
import { NodeAdmin } from './use-cases/node-admin';
import { NodeVolumes } from './use-cases/node-volumes';
import { NodeHealthLoop } from './use-cases/node-health';
import { NodeLoops } from './use-cases/node-loops';
import { healLostNode } from './use-cases/heal-nodes';
import { Reconciler, ReconcileLoop, repairDecision } from './use-cases/reconcile';
import { SerialQueue } from './use-cases/serial-queue';

export interface Daemon {
  url: string;
  knowledge: Knowledge;
  services: Services;
  /** Every execution and action transition, as it happens. */
  events: EventBus;
  close(): Promise<void>;
}

/**
 * Composition root: builds the drivers, stores and use cases, wires them, runs the start-up use
 * cases (recover interrupted executions, restore the topology) and serves the HTTP API.
 */
export async function startDaemon(config: Pick<DaemonConfig, 'port' | 'stateDir'> & Partial<DaemonConfig>): Promise<Daemon> {
  const stateDir = path.resolve(config.stateDir);
  await fs.mkdir(stateDir, { recursive: true });
  const localDocker = config.localDocker ?? process.env.DOCKER_HOST ?? 'unix:///var/run/docker.sock';

  const runtimes = new Map<string, ContainerRuntime>();
  const runtimeForEndpoint = (endpoint: DockerEndpoint): ContainerRuntime => {
    const key = `${endpoint.url}|${endpoint.certPath ?? ''}`;
    let runtime = runtimes.get(key);
    if (!runtime) runtimes.set(key, (runtime = createDockerRuntime(endpoint)));
    return runtime;
  };
  const knowledge = new Knowledge();
  const queue = new SerialQueue();
  const allocator = createThreadedAllocator({ timeLimitMs: config.solverTimeLimitMs ?? 10_000 });
  void allocator.warmUp();
  const hookSource = new GitHookSource(path.join(stateDir, 'hooks-repo'));
  const processDefinitions = new FileProcessDefinitionStore(stateDir);
  const systemStore = await FileSystemStore.open(stateDir);
  const readyTimeoutMs = config.systemReadyTimeoutMs ?? DEFAULT_HEALTHY_TIMEOUT_MS;
  const services: Services = {
    allocator,
    runtimeFor: runtimeForEndpoint,
    cloudFor: (cloud: CloudConfig, vmSize: Resources): CloudDriver =>
      cloud.type === 'static' ? new StaticCloudDriver(cloud, vmSize, runtimeForEndpoint) : new AwsCloudDriver(cloud, vmSize, runtimeForEndpoint),
    hookSource,
    hookRunner: new ContainerHookRunner({
      source: hookSource,
      definitions: processDefinitions,
    }),
    topologies: new FileTopologyStore(stateDir),
    executions: new FileExecutionStore(stateDir),
    processDefinitions,
    localDocker,
    allowBindRoot: config.allowBind,
    hookSchedule: new HookRefresh(new HookRefreshSchedule(), hookSource, queue),
    systemContainers: { hostPortRange: config.hostPorts ?? DEFAULT_HOST_PORT_RANGE, store: systemStore, healthyTimeoutMs: readyTimeoutMs },
    nodeStates: new FileNodeStateStore(stateDir),
  };

  const events = new EventBus();
  const executions = new PlanExecutions(knowledge, services, queue, events);
  const systems = new Systems(knowledge, services, queue, { submit: (plan, options) => executions.submit(plan, options.kind) }, {
    store: systemStore, allowBindRoot: config.allowBind, readyTimeoutMs,
  });
  const nodeAdmin = new NodeAdmin(knowledge, services, (name, cordoned) => events.publish({ type: 'node', name, cordoned, at: new Date().toISOString() }));
  await nodeAdmin.restore();
  const reconciler = new Reconciler(knowledge, services, queue, async (prepare) => {
    const { done } = await executions.submitExecution({ kind: 'reconcile', prepare: () => repairDecision(knowledge, prepare) });
    return done;
  });
  const nodeLoops = new NodeLoops(
    new NodeHealthLoop(knowledge, services, queue, {
      onChange: (c) => events.publish({ type: 'node', name: c.name, health: c.health, at: new Date().toISOString() }),
      onLost: (name) => {
        events.publish({ type: 'node', name, health: 'lost', at: new Date().toISOString() });
        void healLostNode(knowledge, queue, (request) => executions.submitExecution(request), name)
          .then((healed) => { if (healed) console.warn(`node '${name}' lost: execution ${healed.id} (${healed.status}) placed its tiers elsewhere`); })
          .catch((e) => console.error(`healing lost node '${name}': ${e instanceof Error ? e.message : String(e)}`));
      },
    }),
    new ReconcileLoop(knowledge, reconciler),
  );
  services.nodeLoops = nodeLoops;
  const interrupted = await executions.recoverInterrupted();
  if (interrupted > 0) console.warn(`marked ${interrupted} interrupted execution(s) as failed`);

  // Restore the persisted topology; an engine that is down at start is retried, not fatal.
  const restore = new TopologyRestore(knowledge, services, queue, {
    initialDocument: async () => (config.topologyFile ? JSON.parse(await fs.readFile(config.topologyFile, 'utf8')) : undefined),
  });
  await restore.run();
  const interruptedSystems = await systems.recoverInterrupted();
  if (interruptedSystems > 0) console.warn(`${interruptedSystems} system(s) were left starting or deleting by a stopped daemon`);

  const app = buildApp({ knowledge, services, queue, executions, systems, nodes: { knowledge, admin: nodeAdmin, volumes: new NodeVolumes(knowledge, services) } });
  const server: Server = await new Promise((resolve, reject) => {
    const s = app.listen(config.port, config.host ?? '127.0.0.1', () => resolve(s));
    s.once('error', reject);
  });
  const address = server.address() as AddressInfo;
  const url = `http://${address.address.includes(':') ? `[${address.address}]` : address.address}:${address.port}`;

  return {
    url,
    knowledge,
    services,
    events,
    async close() {
      restore.close();
      services.hookSchedule?.stop();
      nodeLoops.stop();
      await nodeLoops.settled();
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      await queue.idle();
      server.closeAllConnections();
      await closed;
      await allocator.close();
    },
  };
}

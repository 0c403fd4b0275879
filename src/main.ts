import { promises as fs } from 'fs';
import { Server } from 'http';
import { AddressInfo } from 'net';
import * as path from 'path';
import { createThreadedAllocator } from './allocator';
import { DaemonConfig } from './config';
import { CloudConfig, Topology } from './domain/topology';
import { Resources } from './domain/resources';
import { DockerEndpoint } from './domain/vm';
import { AwsCloudDriver } from './drivers/aws/aws-cloud-driver';
import { createDockerRuntime } from './drivers/docker/docker-container-runtime';
import { FileExecutionStore } from './drivers/fs/file-execution-store';
import { FileProcessDefinitionStore } from './drivers/fs/file-process-definition-store';
import { FileTopologyStore } from './drivers/fs/file-topology-store';
import { GitHookSource } from './drivers/git-hooks/git-hook-source';
import { HookRefreshSchedule } from './drivers/git-hooks/hook-refresh-schedule';
import { StaticCloudDriver } from './drivers/static/static-cloud-driver';
import { ContainerHookRunner } from './executor/container-hook-runner';
import { errorMessage } from './executor/executor';
import { buildApp } from './http/app';
import { CloudDriver } from './ports/cloud-driver';
import { ContainerRuntime } from './ports/container-runtime';
import { Knowledge, Services } from './use-cases/knowledge';
import { loadTopology } from './use-cases/load-topology';
import { PlanExecutions } from './use-cases/plan-executions';
import { SerialQueue } from './use-cases/serial-queue';

export interface Daemon {
  url: string;
  knowledge: Knowledge;
  services: Services;
  close(): Promise<void>;
}

const RETRY_TOPOLOGY_MS = 15_000;

/**
 * Composition root: builds the drivers and stores, restores the persisted topology (rebuilding the
 * allocation from the engines), and serves the HTTP API.
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
  const allocator = createThreadedAllocator({ timeLimitMs: config.solverTimeLimitMs ?? 10_000 });
  void allocator.warmUp();
  const hookSource = new GitHookSource(path.join(stateDir, 'hooks-repo'));
  const processDefinitions = new FileProcessDefinitionStore(stateDir);
  const services: Services = {
    allocator,
    runtimeFor: runtimeForEndpoint,
    cloudFor: (cloud: CloudConfig, vmSize: Resources): CloudDriver =>
      cloud.type === 'static' ? new StaticCloudDriver(cloud, vmSize, runtimeForEndpoint) : new AwsCloudDriver(cloud, vmSize, runtimeForEndpoint),
    hookSource,
    hookRunner: new ContainerHookRunner({
      runtimeFor: (vmName: string) => {
        const state = knowledge.requireDeployment().cluster[vmName];
        if (!state) throw new Error(`vm '${vmName}' is not in the fleet`);
        return runtimeForEndpoint(state.vm.docker);
      },
      source: hookSource,
      definitions: processDefinitions,
    }),
    topologies: new FileTopologyStore(stateDir),
    executions: new FileExecutionStore(stateDir),
    processDefinitions,
    localDocker,
  };

  const queue = new SerialQueue();
  const executions = new PlanExecutions(knowledge, services, queue);
  const interrupted = await executions.recoverInterrupted();
  if (interrupted > 0) console.warn(`marked ${interrupted} interrupted execution(s) as failed`);

  const refresh = new HookRefreshSchedule();
  const onTopologyLoaded = (topology: Topology) => {
    refresh.stop();
    const { hooksGitRepo, hooksGitRef, hooksRefresh } = topology.infrastructure;
    if (hooksGitRepo) {
      refresh.start(hooksRefresh, async () => { await queue.run(() => hookSource.sync(hooksGitRepo, hooksGitRef)); });
    }
  };

  // Restore the persisted topology; an engine that is down at start is retried, not fatal.
  let retryTimer: NodeJS.Timeout | undefined;
  let topologyPut = false;
  const restore = async () => {
    const persisted = await services.topologies.load();
    const document = persisted ?? (config.topologyFile ? JSON.parse(await fs.readFile(config.topologyFile, 'utf8')) : undefined);
    if (document === undefined || topologyPut) return;
    const options = persisted === undefined ? { persist: true } : { persist: false, restoring: true };
    try {
      const topology = await queue.run(() => (topologyPut ? Promise.resolve(undefined) : loadTopology(knowledge, services, document, options)));
      if (topology) {
        onTopologyLoaded(topology);
        console.log(`topology restored: ${topology.apps.map((a) => a.name).join(', ')}; ${Object.keys(knowledge.requireDeployment().cluster).length} vm(s)`);
      }
    } catch (e) {
      console.error(`restoring the topology failed (retrying in ${RETRY_TOPOLOGY_MS / 1000} s): ${errorMessage(e)}`);
      retryTimer = setTimeout(() => void restore(), RETRY_TOPOLOGY_MS);
      retryTimer.unref();
    }
  };
  await restore();

  const app = buildApp({
    knowledge, services, queue, executions,
    onTopologyLoaded: (topology) => { topologyPut = true; if (retryTimer) clearTimeout(retryTimer); onTopologyLoaded(topology); },
  });
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
    async close() {
      if (retryTimer) clearTimeout(retryTimer);
      refresh.stop();
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      await queue.idle();
      server.closeAllConnections();
      await closed;
      await allocator.close();
    },
  };
}

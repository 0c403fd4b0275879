import { promises as fs } from 'fs';
import * as os from 'os';
import * as path from 'path';
import { createAllocator } from '../../src/allocator';
import { DomainEvent, EventBus } from '../../src/domain/events';
import { FakeCloudDriver } from '../../src/drivers/fake/fake-cloud-driver';
import { FakeEngines } from '../../src/drivers/fake/fake-container-runtime';
import { FakeHookRunner } from '../../src/drivers/fake/fake-hook-runner';
import { openSqliteState } from '../../src/drivers/sqlite/sqlite-state';
import { GitHookSource } from '../../src/drivers/git-hooks/git-hook-source';
import { StaticCloudDriver } from '../../src/drivers/static/static-cloud-driver';
import { buildApp } from '../../src/http/app';
import { Knowledge, Services } from '../../src/use-cases/cluster/knowledge';
import { PlanExecutions } from '../../src/use-cases/execution/plan-executions';
import { SerialQueue } from '../../src/use-cases/execution/serial-queue';

/**
 * The daemon's use cases and HTTP app over fake engines and clouds (src/drivers/fake/), with the
 * real allocator and the real state database in a temporary directory: no Docker engine, no
 * listening port.
 * A static cloud is the real StaticCloudDriver over fake engines; an elastic one is `cloud`.
 */
export async function fakeDaemon(options: { elastic?: boolean } = {}) {
  const stateDir = await fs.mkdtemp(path.join(os.tmpdir(), 'ecoware-unit-'));
  const engines = new FakeEngines();
  const hooks = new FakeHookRunner();
  const cloud = new FakeCloudDriver({ elastic: options.elastic ?? true });
  const state = await openSqliteState(stateDir);
  const knowledge = new Knowledge();
  const services: Services = {
    allocator: createAllocator({ timeLimitMs: 5_000 }),
    runtimeFor: engines.runtimeFor,
    cloudFor: (config, vmSize) => (config.type === 'static' && !options.elastic ? new StaticCloudDriver(config, vmSize, engines.runtimeFor) : cloud),
    hookSource: new GitHookSource(path.join(stateDir, 'hooks-repo')),
    hookRunner: hooks,
    topologies: state.topologies,
    executions: state.executions,
    processDefinitions: state.processDefinitions,
    nodeStates: state.nodeStates,
    localDocker: 'tcp://local:2375',
  };
  const queue = new SerialQueue();
  const bus = new EventBus();
  const events: DomainEvent[] = [];
  bus.subscribe((e) => events.push(e));
  const executions = new PlanExecutions(knowledge, services, queue, bus);
  const app = buildApp({ knowledge, services, queue, executions });
  return {
    app, knowledge, services, engines, cloud, hooks, executions, queue, bus, events, stateDir, state,
    async close() {
      await queue.idle();
      state.close();
      await fs.rm(stateDir, { recursive: true, force: true });
    },
  };
}

import { Action, Steps } from '../../src/domain/action';
import { Cluster } from '../../src/domain/cluster';
import { InfrastructureError } from '../../src/domain/errors';
import { DomainEvent, EventBus } from '../../src/domain/events';
import { newExecution } from '../../src/domain/execution';
import { parseTopology } from '../../src/schema/topology-file';
import { FakeCloudDriver, fakeNode } from '../../src/drivers/fake/fake-cloud-driver';
import { FakeEngines } from '../../src/drivers/fake/fake-container-runtime';
import { FakeHookRunner } from '../../src/drivers/fake/fake-hook-runner';
import { MemoryExecutionStore } from '../../src/drivers/fake/memory-execution-store';
import { Executor } from '../../src/executor/executor';
import { ExecutionJournal } from '../../src/use-cases/execution/execution-journal';
import { Knowledge } from '../../src/use-cases/cluster/knowledge';
import { shopTopology } from '../support/topologies';

/** The executor's rules, over fake engines and a fake cloud: milliseconds, no Docker engine. */

const R = (cpu_cores: number, mem_units: number) => ({ cpu_cores, mem_units });
const createContainer = (vm: string, tier: string, cpuset: number[]): Action => ({ type: 'create_container', vm, tier, resources: R(cpuset.length, 1), cpuset, extra_hosts: [] });
const deleteContainer = (vm: string, tier: string, cpuset: number[]): Action => ({ type: 'delete_container', vm, tier, resources: R(cpuset.length, 1), cpuset });

function harness(options: { elastic?: boolean; onHookFailure?: 'stop' | 'continue'; webHook?: string; nodes?: string[] } = {}) {
  const topology = parseTopology(shopTopology({
    tiers: {
      db: { max_node: 1, docker_image: 'busybox' },
      web: { docker_image: 'busybox', ...(options.webHook ? { on_node_scale: options.webHook } : {}) },
    },
    infrastructure: { ...(options.webHook ? { hooks_git_repo: 'https://example.invalid/hooks.git' } : {}), on_hook_failure: options.onHookFailure ?? 'stop' },
  }), { localDocker: 'tcp://local:2375' });
  const nodes = (options.nodes ?? ['node1']).map((name) => fakeNode(name, R(4, 8)));
  const cloud = new FakeCloudDriver({ elastic: options.elastic ?? false, vms: nodes });
  const cluster: Cluster = Object.fromEntries(nodes.map((vm) => [vm.name, { vm, containers: {} }]));
  const knowledge = new Knowledge();
  knowledge.putInForce({ topology, cloud, cluster });
  const engines = new FakeEngines();
  const hooks = new FakeHookRunner();
  const executor = new Executor({ runtimeFor: engines.runtimeFor, hooks });
  const bus = new EventBus();
  const events: DomainEvent[] = [];
  bus.subscribe((e) => events.push(e));
  const store = new MemoryExecutionStore();

  const run = async (steps: Steps, controller = new AbortController()) => {
    const journal = new ExecutionJournal(newExecution('e1', {}), store, bus);
    journal.start();
    journal.decided({ target: {}, before: {}, translation: { steps, actions: [] }, timingsMs: { translate: 0 } });
    const outcome = await executor.run(steps, {
      topology, cloud, cluster: knowledge, report: journal, oldPlacement: {}, newPlacement: {}, signal: controller.signal,
    });
    return { outcome, records: journal.execution.steps, statuses: journal.execution.steps.map((l) => l.map((r) => r.status)) };
  };
  return { run, engines, cloud, hooks, knowledge, events };
}

describe('Executor', () => {
  it('stops after the layer where an action failed: the rest of that layer finishes, later layers are skipped', async () => {
    const h = harness({ nodes: ['node1', 'node2'] });
    h.engines.engine('fake://node1').failNext('create', new InfrastructureError('engine at node1 timed out', 'timeout'));
    const { outcome, records, statuses } = await h.run([
      [createContainer('node1', 'shop_web', [0]), createContainer('node2', 'shop_web', [0])],
      [createContainer('node2', 'shop_db', [1])],
    ]);
    expect(outcome.status).toBe('failed');
    expect(outcome.error).toMatch(/create container 'shop_web' on vm 'node1'.*: engine at node1 timed out/);
    expect(statuses).toEqual([['failed', 'succeeded'], ['skipped']]);
    // The action record keeps the driver's code, not only its text.
    expect(records[0][0]).toMatchObject({ error: 'engine at node1 timed out', error_code: 'timeout', vm: 'node1' });
    expect(h.engines.engine('fake://node2').callsOf('create').map((c) => c.target)).toEqual(['shop_web']);
    // The cluster tells the truth about what did happen.
    expect(Object.keys(h.knowledge.vm('node2')!.containers)).toEqual(['shop_web']);
    expect(h.knowledge.vm('node1')!.containers).toEqual({});
  });

  it('marks what did not run cancelled after a cancel', async () => {
    const h = harness();
    const controller = new AbortController();
    h.engines.engine('fake://node1').delayMs = 20;
    const running = h.run([[createContainer('node1', 'shop_web', [0])], [createContainer('node1', 'shop_db', [1])]], controller);
    setTimeout(() => controller.abort(), 5);
    const { outcome, statuses } = await running;
    expect(outcome.status).toBe('cancelled');
    expect(statuses).toEqual([['succeeded'], ['cancelled']]);
  });

  it.each([
    ['stop', 'failed', [['failed'], ['skipped']]],
    ['continue', 'succeeded', [['failed'], ['succeeded']]],
  ] as const)('with on_hook_failure: %s, a failing hook leaves the run %s', async (policy, status, statuses) => {
    const h = harness({ onHookFailure: policy, webHook: 'tune.sh' });
    h.hooks.exitCodes.set('tune.sh', 3);
    const run = await h.run([[createContainer('node1', 'shop_web', [0])], [createContainer('node1', 'shop_db', [1])]]);
    expect(run.outcome.status).toBe(status);
    expect(run.statuses).toEqual(statuses);
    expect(run.records[0][0]).toMatchObject({ error_code: 'hook_failed', error: expect.stringMatching(/on_node_scale hook 'tune.sh' of 'shop_web' on vm 'node1' exited with code 3/) });
    expect(run.records[0][0].hooks).toHaveLength(1);
    // The hook ran in the container just created, through the runtime the executor resolved.
    expect(h.hooks.invocations[0]).toMatchObject({ vm: 'node1', runtime: h.engines.engine('fake://node1') });
  });

  it('on one VM, releases cores before taking them', async () => {
    const h = harness();
    await h.run([[createContainer('node1', 'shop_db', [0])]]);
    const { outcome } = await h.run([[createContainer('node1', 'shop_web', [0]), deleteContainer('node1', 'shop_db', [0])]]);
    expect(outcome.status).toBe('succeeded');
    const calls = h.engines.engine('fake://node1').calls.filter((c) => c.op === 'create' || c.op === 'remove').map((c) => `${c.op} ${c.target}`);
    expect(calls.slice(1)).toEqual([expect.stringMatching(/^remove /), 'create shop_web']);
  });

  it('asks the cloud once for all the new VMs of a layer, and places containers on what they became', async () => {
    const h = harness({ elastic: true, nodes: [] });
    const { outcome, records } = await h.run([
      [{ type: 'create_vm', vm: 'new_vm0', capacity: R(4, 8) }, { type: 'create_vm', vm: 'new_vm1', capacity: R(4, 8) }],
      [createContainer('new_vm0', 'shop_web', [0]), createContainer('new_vm1', 'shop_web', [0])],
    ]);
    expect(outcome.status).toBe('succeeded');
    expect(h.cloud.createCalls).toEqual([2]);
    expect(records[0].map((r) => r.vm)).toEqual(['fake-vm-1', 'fake-vm-2']);
    expect(records[1].map((r) => r.vm)).toEqual(['fake-vm-1', 'fake-vm-2']);
    expect(records[0][0].progress).toEqual(['2 new VM(s) ready']);
    expect(Object.keys(h.knowledge.vm('fake-vm-2')!.containers)).toEqual(['shop_web']);
  });

  it('forgets a deleted VM on an elastic cloud and keeps an emptied node of a static pool', async () => {
    for (const elastic of [true, false]) {
      const h = harness({ elastic });
      const { outcome } = await h.run([[{ type: 'delete_vm', vm: 'node1' }]]);
      expect(outcome.status).toBe('succeeded');
      expect(h.cloud.deleteCalls).toEqual(['node1']);
      expect(h.knowledge.vm('node1') === undefined).toBe(elastic);
    }
  });

  it('publishes every action transition once, in order', async () => {
    const h = harness({ nodes: ['node1'] });
    h.engines.engine('fake://node1').failNext('create', new InfrastructureError('boom', 'engine'));
    await h.run([[createContainer('node1', 'shop_web', [0])], [createContainer('node1', 'shop_db', [1])]]);
    const actions = h.events.filter((e) => e.type === 'action').map((e) => e.type === 'action' && `${e.layer}.${e.index} ${e.status}`);
    expect(actions).toEqual(['0.0 running', '0.0 failed', '1.0 skipped']);
    expect(h.events.filter((e) => e.type === 'execution').map((e) => e.type === 'execution' && e.status)).toEqual(['running']);
  });
});

import { parseCompose } from '../../src/schema/compose/compose-file';
import { composeToApp } from '../../src/schema/compose/system-app';
import { Cluster } from '../../src/domain/cluster';
import { EventBus } from '../../src/domain/events';
import { newExecution } from '../../src/domain/execution';
import { parseTopology } from '../../src/schema/topology-file';
import { FakeCloudDriver, fakeNode } from '../../src/drivers/fake/fake-cloud-driver';
import { FakeEngines } from '../../src/drivers/fake/fake-container-runtime';
import { MemoryExecutionStore } from '../../src/drivers/fake/memory-execution-store';
import { Executor } from '../../src/executor/executor';
import { SystemPortLedger } from '../../src/executor/system-containers';
import { ContainerSpec } from '../../src/ports/container-runtime';
import { ExecutionJournal } from '../../src/use-cases/execution/execution-journal';
import { Knowledge } from '../../src/use-cases/cluster/knowledge';

/** The host ports of a system's containers: the executor asks for those chosen before and reports those it got; it writes no record. */
describe('Executor and the host ports of systems', () => {
  const SID = 'b'.repeat(32);
  const system = composeToApp(parseCompose({ services: { web: { image: 'busybox', ports: ['8080'] } } }, { env: {} }), { name: 'shop', sid: SID, namespace: 'default' }, 512);
  const topology = parseTopology({ infrastructure: { cpu_cores: 4, mem_units: 8 }, apps: [system.app] }, { localDocker: 'tcp://local:2375' });
  const flat = `shop-${SID}_web`;

  async function createWeb(ledger: SystemPortLedger & { reports: unknown[] }) {
    const node = fakeNode('node1', { cpu_cores: 4, mem_units: 8 });
    const cloud = new FakeCloudDriver({ elastic: false, vms: [node] });
    const cluster: Cluster = { node1: { vm: node, containers: {} } };
    const knowledge = new Knowledge();
    knowledge.putInForce({ topology, cloud, cluster });
    const engines = new FakeEngines();
    const engine = engines.engine(node.engine.url);
    const specs: ContainerSpec[] = [];
    const create = engine.create.bind(engine);
    engine.create = async (spec) => {
      specs.push(spec);
      const preferred = spec.system?.preferredHostPorts['8080/tcp'];
      return { ...(await create(spec)), hostPorts: { '8080/tcp': preferred ?? 20000 } };
    };
    const executor = new Executor({ runtimeFor: engines.runtimeFor, systems: { hostPortRange: { first: 20000, last: 20010 }, healthyTimeoutMs: 1000, ledger } });
    const journal = new ExecutionJournal(newExecution('e1', {}), new MemoryExecutionStore(), new EventBus());
    const steps = [[{ type: 'create_container' as const, vm: 'node1', tier: flat, resources: { cpu_cores: 1, mem_units: 1 }, cpuset: [0], extra_hosts: [] }]];
    journal.start();
    journal.decided({ target: {}, before: {}, translation: { steps, actions: [] }, timingsMs: { translate: 0 } });
    const outcome = await executor.run(steps, {
      topology, cloud, cluster: knowledge, report: journal, oldPlacement: {}, newPlacement: { node1: { [flat]: { cpu_cores: 1, mem_units: 1 } } }, signal: new AbortController().signal,
    });
    expect(outcome.status).toBe('succeeded');
    return specs;
  }

  it('reports the ports a container got through the ledger', async () => {
    const ledger = { reports: [] as unknown[], hostPortsOf: () => undefined, hostPortsChosen(...args: unknown[]) { this.reports.push(args); } };
    const specs = await createWeb(ledger);
    expect(specs[0].system?.preferredHostPorts).toEqual({});
    expect(ledger.reports).toEqual([[SID, 'node1', 'web', { '8080/tcp': 20000 }]]);
  });

  it('asks for the ports chosen before on the same node', async () => {
    const ledger = {
      reports: [] as unknown[],
      hostPortsOf: (sid: string) => (sid === SID ? { node1: { web: { '8080/tcp': 20007 } } } : undefined),
      hostPortsChosen(...args: unknown[]) { this.reports.push(args); },
    };
    const specs = await createWeb(ledger);
    expect(specs[0].system?.preferredHostPorts).toEqual({ '8080/tcp': 20007 });
    expect(ledger.reports).toEqual([[SID, 'node1', 'web', { '8080/tcp': 20007 }]]);
  });
});

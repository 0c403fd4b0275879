import { UnsatisfiableError } from '../../src/domain/errors';
import { StaticCloudConfig } from '../../src/domain/topology';
import { parseTopology } from '../../src/schema/topology-file';
import { runtimesByEngine } from '../../src/drivers/runtime-drivers';
import { StaticCloudDriver } from '../../src/drivers/static/static-cloud-driver';
import { checkNodes } from '../../src/use-cases/cluster/check-nodes';
import { bridgeGateway, engine, freePort, testDockerEndpoint } from '../support/docker';

const VM_SIZE = { cpu_cores: 2, mem_units: 8 };
const DEAD_SOCKET = 'unix:///nonexistent/ecoware/static-driver.sock';

function pool(...nodes: StaticCloudConfig['nodes']): StaticCloudConfig {
  return { type: 'static', nodes };
}

describe('StaticCloudDriver', () => {
  it('lists its nodes with their capacity and address', async () => {
    const local = testDockerEndpoint().url;
    const driver = new StaticCloudDriver(pool(
      { name: 'local', docker: local },
      { name: 'big', docker: 'tcp://10.20.30.40:2375', cpu_cores: 1, mem_units: 4, address: '192.0.2.7' },
    ), VM_SIZE, runtimesByEngine());

    const gateway = await bridgeGateway();
    expect(gateway).toBeDefined();
    expect(await driver.listVms()).toEqual([
      { name: 'local', capacity: VM_SIZE, engine: { kind: 'docker' as const, url: local }, address: gateway },
      { name: 'big', capacity: { cpu_cores: 1, mem_units: 4 }, engine: { kind: 'docker' as const, url: 'tcp://10.20.30.40:2375' }, address: '192.0.2.7' },
    ]);
    expect(await driver.maxVms()).toBe(2);
    expect(driver.isElastic).toBe(false);
  });

  it('is the default single local node of a topology without a cloud driver', async () => {
    const topology = parseTopology(
      { infrastructure: { cpu_cores: 2, mem_units: 4 }, apps: [] },
      { localDocker: testDockerEndpoint().url },
    );
    const driver = new StaticCloudDriver(topology.infrastructure.cloud as StaticCloudConfig, topology.infrastructure.vmSize, runtimesByEngine());
    const vms = await driver.listVms();
    expect(vms.map((vm) => [vm.name, vm.engine.url, vm.capacity])).toEqual([['local', testDockerEndpoint().url, { cpu_cores: 2, mem_units: 4 }]]);
    await expect(checkNodes(vms, runtimesByEngine())).resolves.toBeUndefined();
  });

  it('lists a node whose engine is down, without an address', async () => {
    const driver = new StaticCloudDriver(pool({ name: 'down', docker: DEAD_SOCKET }), VM_SIZE, runtimesByEngine());
    expect(await driver.listVms()).toEqual([{ name: 'down', capacity: VM_SIZE, engine: { kind: 'docker' as const, url: DEAD_SOCKET }, address: undefined }]);
  });

  it('refuses to create VMs, saying how large the pool is', async () => {
    const driver = new StaticCloudDriver(pool({ name: 'a', docker: DEAD_SOCKET }, { name: 'b', docker: DEAD_SOCKET }), VM_SIZE, runtimesByEngine());
    const error = await driver.createVms(1).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UnsatisfiableError);
    expect((error as Error).message).toMatch(/static pool has 2 nodes.*can't be honoured/);
  });

  it('keeps a deleted VM in the pool', async () => {
    const driver = new StaticCloudDriver(pool({ name: 'a', docker: DEAD_SOCKET }), VM_SIZE, runtimesByEngine());
    const [vm] = await driver.listVms();
    await driver.deleteVm(vm!);
    expect((await driver.listVms()).map((v) => v.name)).toEqual(['a']);
  });
});

describe('checkNodes', () => {
  it('accepts nodes whose engines answer and have the cores', async () => {
    const cpus = (await engine().info()).NCPU as number;
    const vms = [{ name: 'local', capacity: { cpu_cores: cpus, mem_units: 1 }, engine: { kind: 'docker' as const, ...testDockerEndpoint() } }];
    await expect(checkNodes(vms, runtimesByEngine())).resolves.toBeUndefined();
  });

  it('refuses unreachable nodes and nodes with too few CPUs, naming each', async () => {
    const cpus = (await engine().info()).NCPU as number;
    const closedPort = await freePort();
    const vms = [
      { name: 'ok', capacity: { cpu_cores: 1, mem_units: 1 }, engine: { kind: 'docker' as const, ...testDockerEndpoint() } },
      { name: 'small', capacity: { cpu_cores: cpus + 1, mem_units: 1 }, engine: { kind: 'docker' as const, ...testDockerEndpoint() } },
      { name: 'gone', capacity: { cpu_cores: 1, mem_units: 1 }, engine: { kind: 'docker' as const, url: DEAD_SOCKET } },
      { name: 'closed', capacity: { cpu_cores: 1, mem_units: 1 }, engine: { kind: 'docker' as const, url: `tcp://127.0.0.1:${closedPort}` } },
    ];
    const error = await checkNodes(vms, runtimesByEngine()).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UnsatisfiableError);
    const message = (error as Error).message;
    expect(message).toContain(`node 'small' (${testDockerEndpoint().url}) has ${cpus} CPU`);
    expect(message).toContain(`cpu_cores=${cpus + 1}`);
    expect(message).toContain(`node 'gone' (${DEAD_SOCKET}) is unreachable`);
    expect(message).toContain(`node 'closed' (tcp://127.0.0.1:${closedPort}) is unreachable`);
    expect(message).not.toContain("node 'ok'");
  });
});

import { InfrastructureError } from '../../src/domain/errors';
import { createDockerRuntime } from '../../src/drivers/docker/docker-container-runtime';
import { bridgeGatewayAddress } from '../../src/drivers/docker/docker-host-address';
import { StaticCloudDriver } from '../../src/drivers/static/static-cloud-driver';
import { freePort } from '../support/docker';
import { FreshEngine, startFreshEngine } from '../support/fresh-engine';

/**
 * Where containers reach the host of a local engine. Debian's dockerd 20.10, on its first start on a
 * new data root, lists only the subnet of its default bridge, no gateway; the address must be found
 * all the same, or every plan whose containers name another tier's host fails.
 */
describe('the address of an engine started for the first time on a new data root', () => {
  let fresh: FreshEngine;
  beforeAll(async () => {
    fresh = await startFreshEngine({ tcpPort: await freePort() });
  });
  afterAll(async () => {
    await fresh?.stop();
  });

  it('is the address of the bridge dockerd set up, over the unix socket and over loopback tcp', async () => {
    const expected = await fresh.bridgeAddress();
    expect(expected).toMatch(/^\d+\.\d+\.\d+\.\d+$/);
    expect(await createDockerRuntime({ url: fresh.endpoint }).hostAddress()).toBe(expected);
    expect(await createDockerRuntime({ url: fresh.tcpEndpoint! }).hostAddress()).toBe(expected);
  });

  it('is given to the static pool node, so plans with host entries can be carried out', async () => {
    const driver = new StaticCloudDriver(
      { kind: 'static', nodes: [{ name: 'local', docker: fresh.endpoint }] } as never,
      { cpu_cores: 2, mem_units: 4 },
      ({ engine }) => createDockerRuntime(engine),
    );
    const [vm] = await driver.listVms();
    expect(vm.address).toBe(await fresh.bridgeAddress());
  });
});

describe('the address of a remote engine', () => {
  it('is the address in its URL', async () => {
    expect(await createDockerRuntime({ url: 'tcp://10.20.30.40:2375' }).hostAddress()).toBe('10.20.30.40');
    expect(await createDockerRuntime({ url: 'https://[2001:db8::7]:2376' }).hostAddress()).toBe('2001:db8::7');
  });

  it('is resolved when the URL names a host, since host entries take addresses only', async () => {
    // `localhost` is loopback and so means the local engine; the machine's own name resolves through /etc/hosts.
    const error = await createDockerRuntime({ url: 'tcp://no-such-engine.invalid:2375' }).hostAddress().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InfrastructureError);
    expect((error as Error).message).toContain("cannot resolve 'no-such-engine.invalid'");
  });
});

describe('bridgeGatewayAddress', () => {
  const subnetOnly = {
    IPAM: { Driver: 'default', Config: [{ Subnet: '172.18.0.0/16' }] },
    Options: { 'com.docker.network.bridge.name': 'docker0' },
  };

  it('takes the gateway the engine lists', () => {
    expect(bridgeGatewayAddress({ ...subnetOnly, IPAM: { Driver: 'default', Config: [{ Subnet: '10.1.2.0/24', Gateway: '10.1.2.9' }] } }, {})).toBe('10.1.2.9');
  });

  it("takes the bridge interface's address in the subnet when no gateway is listed", () => {
    const interfaces = {
      docker0: [
        { address: 'fe80::1', family: 'IPv6', netmask: 'ffff:ffff:ffff:ffff::', internal: false, mac: '', cidr: null, scopeid: 0 },
        { address: '172.18.5.7', family: 'IPv4', netmask: '255.255.0.0', internal: false, mac: '', cidr: null },
      ],
    } as never;
    expect(bridgeGatewayAddress(subnetOnly as never, interfaces)).toBe('172.18.5.7');
  });

  it("takes the subnet's first address when the bridge is not on this machine", () => {
    expect(bridgeGatewayAddress(subnetOnly as never, {})).toBe('172.18.0.1');
    expect(bridgeGatewayAddress({ IPAM: { Driver: 'default', Config: [{ Subnet: '10.9.8.128/25' }] } } as never, {})).toBe('10.9.8.129');
  });

  it('knows nothing when the engine lists no subnet either', () => {
    expect(bridgeGatewayAddress({ IPAM: { Driver: 'default', Config: [] } } as never, {})).toBeUndefined();
  });
});

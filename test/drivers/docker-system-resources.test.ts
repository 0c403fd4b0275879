import { createServer, Server } from 'node:net';
import { randomBytes } from 'node:crypto';
import { DockerContainerRuntime } from '../../src/drivers/docker/docker-container-runtime';
import { LABEL_SYSTEM } from '../../src/drivers/docker/labels';
import { ContainerSpec, SystemContainerSpec } from '../../src/ports/container-runtime';
import { engine, engineExec, inspectContainer, removeContainersByLabel, TEST_LABEL, testDockerEndpoint, testImage, uniqueName } from '../support/docker';

const TEST_VALUE = 'docker-system';
const sid = randomBytes(16).toString('hex');
const network = `drvsys-${sid}`;
// A range of its own, away from the default, so parallel runs of other tests do not meet it.
const RANGE = { first: 31700 + Math.floor(Math.random() * 200), last: 31999 };

function systemSpec(service: string, overrides: Partial<SystemContainerSpec> = {}): ContainerSpec {
  const name = uniqueName(`ecosys-${service}`);
  return {
    name, app: network, tier: service, vm: 'local', image: testImage(), cpuset: [0], memoryMb: 64, ports: [], environment: {},
    args: ['httpd', '-f', '-p', '8080', '-h', '/tmp'], extraHosts: [], labels: { [TEST_LABEL]: TEST_VALUE },
    system: {
      sid, namespace: 'drvsys', service, network, mounts: [], publish: [{ containerPort: 8080, protocol: 'tcp' }], hostPortRange: RANGE,
      preferredHostPorts: {}, labels: { team: 'a' }, ...overrides,
    },
  };
}

describe('DockerContainerRuntime: containers of systems', () => {
  const runtime = new DockerContainerRuntime(testDockerEndpoint());

  afterAll(async () => {
    await removeContainersByLabel(TEST_LABEL, TEST_VALUE);
    await runtime.systemNetworks.remove(sid, { volumes: true });
  });

  it('chooses distinct host ports from the range, records them, and keeps them across docker restart', async () => {
    const a = await runtime.create(systemSpec('web'));
    const b = await runtime.create(systemSpec('web2'));
    const portA = a.hostPorts!['8080/tcp'];
    const portB = b.hostPorts!['8080/tcp'];
    expect(portA).toBeGreaterThanOrEqual(RANGE.first);
    expect(portB).toBeLessThanOrEqual(RANGE.last);
    expect(portA).not.toBe(portB);
    const info = await inspectContainer(a.id);
    expect(info!.HostConfig.PortBindings!['8080/tcp'][0].HostPort).toBe(String(portA));
    expect(info!.Config.Labels['io.ecoware.ports']).toBe(`8080/tcp=${portA}`);
    expect(info!.Config.Labels[LABEL_SYSTEM]).toBe(sid);
    expect(info!.Config.Labels.team).toBe('a');

    await engine().getContainer(a.id).restart({ t: 0 });
    const after = await inspectContainer(a.id);
    expect(after!.NetworkSettings.Ports['8080/tcp']![0].HostPort).toBe(String(portA));
  });

  it('takes a preferred port again when it is free, and skips one a process outside Docker holds', async () => {
    const held = await listen(RANGE.last - 1);
    try {
      const preferred = await runtime.create(systemSpec('pref', { preferredHostPorts: { '8080/tcp': RANGE.last } }));
      expect(preferred.hostPorts).toEqual({ '8080/tcp': RANGE.last });
      // The lowest free port may be the one held by the listener only if nothing lower is free;
      // either way the engine's refusal must not surface.
      const other = await runtime.create(systemSpec('other', { preferredHostPorts: { '8080/tcp': RANGE.last - 1 } }));
      expect(other.hostPorts!['8080/tcp']).not.toBe(RANGE.last - 1);
      expect(other.state).toBe('running');
    } finally {
      held.close();
    }
  });

  it('joins the system network under the service name, mounts a labelled named volume, passes the healthcheck', async () => {
    const db = await runtime.create(systemSpec('db', {
      publish: [],
      mounts: [{ type: 'volume', volume: `${network}_data`, target: '/data', readOnly: false, driverOpts: {}, external: false }],
      healthcheck: { test: ['CMD-SHELL', 'true'], intervalMs: 500, retries: 3 },
    }));
    const info = await inspectContainer(db.id);
    expect(info!.NetworkSettings.Networks[network].Aliases).toContain('db');
    expect(info!.Config.Healthcheck).toMatchObject({ Test: ['CMD-SHELL', 'true'], Interval: 500_000_000, Retries: 3 });
    const volume = await engine().getVolume(`${network}_data`).inspect();
    expect(volume.Labels).toMatchObject({ [LABEL_SYSTEM]: sid, 'io.ecoware.managed': 'true' });

    const client = await runtime.create(systemSpec('client', { publish: [] }));
    const { exitCode } = await engineExec(client.id, ['ping', '-c', '1', '-W', '2', 'db']);
    expect(exitCode).toBe(0);
    for (let i = 0; i < 40 && (await runtime.listManaged()).find((c) => c.id === db.id)?.health !== 'healthy'; i++) await new Promise((r) => setTimeout(r, 250));
    expect((await runtime.listManaged()).find((c) => c.id === db.id)?.health).toBe('healthy');
  });

  it('removes the networks of a system, and its volumes only when asked', async () => {
    await removeContainersByLabel(TEST_LABEL, TEST_VALUE);
    const kept = await runtime.systemNetworks.remove(sid, { volumes: false });
    expect(kept).toEqual({ networks: [network], volumes: [] });
    expect(await runtime.systemNetworks.listVolumes(sid)).toEqual([`${network}_data`]);
    expect((await runtime.systemNetworks.remove(sid, { volumes: true })).volumes).toEqual([`${network}_data`]);
    expect(await runtime.systemNetworks.listVolumes(sid)).toEqual([]);
    expect(await engine().listNetworks({ filters: { name: [network] } })).toEqual([]);
  });
});

function listen(port: number): Promise<Server> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(port, '0.0.0.0', () => resolve(server));
  });
}

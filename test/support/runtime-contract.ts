import { randomBytes } from 'node:crypto';
import { NotFoundError, ConflictError } from '../../src/domain/errors';
import { ContainerRuntime, ContainerSpec, SystemContainerSpec } from '../../src/ports/container-runtime';

/** What a runtime under contract is given by its test file. */
export interface ContractSubject {
  runtime: ContainerRuntime;
  /** An image the engine has, with `sleep` and `httpd` (busybox). */
  image: string;
  /** Labels every container of the suite carries, so that the test file can clean up. */
  labels: Record<string, string>;
  /** Removes whatever containers of the suite are left (after each test). */
  cleanup(): Promise<void>;
}

/**
 * The contract of the container-runtime port (src/ports/container-runtime.ts), one suite for every
 * runtime: run against the fake (test/drivers/fake-runtime-contract.unit.test.ts, unit tier) and
 * against Docker (test/drivers/docker-runtime-contract.test.ts), so the fast tests over the fake
 * stand for what a real engine does. Only the port is used, never the engine behind it.
 */
export function runtimeContract(name: string, capabilities: { volumes: boolean; systemNetworks: boolean }, subject: () => ContractSubject): void {
  describe(`${name}: the container-runtime contract`, () => {
    let s: ContractSubject;
    const run = randomBytes(4).toString('hex');
    let count = 0;
    const spec = (overrides: Partial<ContainerSpec> = {}): ContainerSpec => ({
      name: `contract-${run}-${++count}`, app: `contract${run}`, tier: `t${count}`, vm: 'node-a', image: s.image,
      cpuset: [0], memoryMb: 64, ports: [], environment: {}, args: ['sleep', '3600'], extraHosts: [], labels: { ...s.labels },
      ...overrides,
    });

    beforeAll(() => { s = subject(); });
    afterEach(async () => { await s.cleanup(); });

    it('creates a running container on its cores with its memory, listed in full and in the cheap view', async () => {
      const wanted = spec();
      const created = await s.runtime.create(wanted);
      expect(created).toMatchObject({
        name: wanted.name, app: wanted.app, tier: wanted.tier, flatTier: wanted.name, vm: 'node-a', state: 'running', memoryBytes: 64 * 2 ** 20,
      });
      // A runtime that does not pin cores reports how many the container holds instead.
      if (s.runtime.pinsCores) expect(created.cpuset).toEqual([0]);
      else expect(created).toMatchObject({ cpuset: [], cpuCores: 1 });
      expect((await s.runtime.listManaged()).find((c) => c.id === created.id)).toMatchObject({ name: wanted.name, cpuset: created.cpuset });
      expect((await s.runtime.listManagedStates()).find((c) => c.id === created.id)).toEqual({ id: created.id, flatTier: wanted.name, vm: 'node-a', state: 'running' });
    });

    it('resizes in place, keeping the container', async () => {
      const created = await s.runtime.create(spec());
      const last = Math.max(0, (await s.runtime.info()).cpus - 1);
      const resized = await s.runtime.update(created.id, { cpuset: [last], memoryMb: 96 });
      expect(resized.id).toBe(created.id);
      expect(resized.memoryBytes).toBe(96 * 2 ** 20);
      if (s.runtime.pinsCores) expect(resized.cpuset).toEqual([last]);
      else expect(resized).toMatchObject({ cpuset: [], cpuCores: 1 });
    });

    it('leaves a running container running when asked to start it; removes it, and again without complaint', async () => {
      const created = await s.runtime.create(spec());
      expect((await s.runtime.start(created.id)).state).toBe('running');
      await s.runtime.remove(created.id);
      await s.runtime.remove(created.id);
      expect((await s.runtime.listManagedStates()).map((c) => c.id)).not.toContain(created.id);
    });

    it('replaces a container of the same VM that holds the name', async () => {
      const wanted = spec();
      const first = await s.runtime.create(wanted);
      const second = await s.runtime.create(wanted);
      const named = (await s.runtime.listManaged()).filter((c) => c.name === wanted.name);
      expect(named.map((c) => c.id)).toEqual([second.id]);
      expect(second.id).not.toBe(first.id);
    });

    it('writes a file into a container and reads it back; a missing file or container is not found', async () => {
      const created = await s.runtime.create(spec());
      await s.runtime.putFile(created.id, '/tmp/contract/deep/input.json', '{"a":1}');
      expect((await s.runtime.readFile(created.id, '/tmp/contract/deep/input.json')).toString()).toBe('{"a":1}');
      await expect(s.runtime.readFile(created.id, '/tmp/contract/none.json')).rejects.toBeInstanceOf(NotFoundError);
      await s.runtime.remove(created.id);
      await expect(s.runtime.exec(created.id, { argv: ['true'], timeoutMs: 5_000 })).rejects.toBeInstanceOf(NotFoundError);
    });

    it('runs a process in a container and answers its exit code', async () => {
      const created = await s.runtime.create(spec());
      const result = await s.runtime.exec(created.id, { argv: ['true'], timeoutMs: 10_000 });
      expect(result).toMatchObject({ exitCode: 0, timedOut: false, cancelled: false });
    });

    (capabilities.volumes ? describe : describe.skip)('volumes', () => {
      it('creates a managed volume, names the containers mounting it, refuses to remove it while used', async () => {
        const volumes = s.runtime.volumes!;
        expect(volumes).toBeDefined();
        const volume = `contract-${run}-vol`;
        const made = await volumes.create({ name: volume, driver: 'local', driverOpts: {}, labels: { ...s.labels } });
        expect(made).toMatchObject({ name: volume, driver: 'local', managed: true, used_by: [] });
        const user = await s.runtime.create(spec({ mounts: [{ type: 'volume', volume, target: '/data', readOnly: false, driverOpts: {}, external: false }] }));
        expect((await volumes.list()).find((v) => v.name === volume)).toMatchObject({ managed: true, used_by: [user.name] });
        await expect(volumes.remove(volume)).rejects.toBeInstanceOf(ConflictError);
        await s.runtime.remove(user.id);
        await volumes.remove(volume);
        expect((await volumes.list()).map((v) => v.name)).not.toContain(volume);
        await expect(volumes.remove(volume)).rejects.toBeInstanceOf(NotFoundError);
      });

      it('creates a named volume a container mounts when the node lacks it', async () => {
        const volumes = s.runtime.volumes!;
        expect(volumes).toBeDefined();
        const volume = `contract-${run}-auto`;
        const user = await s.runtime.create(spec({ mounts: [{ type: 'volume', volume, target: '/data', readOnly: false, driverOpts: {}, external: false }] }));
        expect((await volumes.list()).find((v) => v.name === volume)).toMatchObject({ managed: true, used_by: [user.name] });
        await s.runtime.remove(user.id);
        await volumes.remove(volume);
      });
    });

    (capabilities.systemNetworks ? describe : describe.skip)('system networks', () => {
      const sid = randomBytes(16).toString('hex');
      const network = `contract-${sid.slice(0, 12)}`;
      const range = { first: 32100 + Math.floor(Math.random() * 300), last: 32599 };
      const system = (service: string, overrides: Partial<SystemContainerSpec> = {}): ContainerSpec => spec({
        tier: service, args: ['httpd', '-f', '-p', '8080', '-h', '/tmp'],
        system: {
          sid, namespace: 'contract', service, network, publish: [{ containerPort: 8080, protocol: 'tcp' }], hostPortRange: range,
          preferredHostPorts: {}, labels: {}, mounts: [{ type: 'volume', volume: `${network}_data`, target: '/data', readOnly: false, driverOpts: {}, external: false }],
          ...overrides,
        },
      });

      it('publishes each container on its own host port of the range, taking a preferred one again when free', async () => {
        const networks = s.runtime.systemNetworks!;
        expect(networks).toBeDefined();
        const a = await s.runtime.create(system('web'));
        const port = a.hostPorts!['8080/tcp'];
        expect(port).toBeGreaterThanOrEqual(range.first);
        expect(port).toBeLessThanOrEqual(range.last);
        expect(a.system).toBe(sid);
        const b = await s.runtime.create(system('api', { preferredHostPorts: { '8080/tcp': port } }));
        expect(b.hostPorts!['8080/tcp']).not.toBe(port);
        await s.runtime.remove(a.id);
        const again = await s.runtime.create(system('web', { preferredHostPorts: { '8080/tcp': range.last } }));
        expect(again.hostPorts).toEqual({ '8080/tcp': range.last });
      });

      it("lists the system's volumes and removes its networks, and its volumes only when asked", async () => {
        const networks = s.runtime.systemNetworks!;
        expect(networks).toBeDefined();
        await s.runtime.create(system('db', { publish: [] }));
        expect(await networks.listVolumes(sid)).toEqual([`${network}_data`]);
        await s.cleanup();
        expect(await networks.remove(sid, { volumes: false })).toEqual({ networks: [network], volumes: [] });
        expect(await networks.listVolumes(sid)).toEqual([`${network}_data`]);
        expect(await networks.remove(sid, { volumes: true })).toEqual({ networks: [], volumes: [`${network}_data`] });
        expect(await networks.listVolumes(sid)).toEqual([]);
      });
    });
  });
}

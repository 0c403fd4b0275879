import { createServer, Server, Socket } from 'node:net';
import { AddressInfo } from 'node:net';
import { ConflictError, InfrastructureError, NotFoundError } from '../../src/domain/errors';
import {
  createDockerRuntime, DockerContainerRuntime,
} from '../../src/drivers/docker/docker-container-runtime';
import { LABEL_APP, LABEL_FLAT_TIER, LABEL_MANAGED, LABEL_TIER, LABEL_VM } from '../../src/drivers/docker/labels';
import { ContainerRuntime, ContainerSpec } from '../../src/ports/container-runtime';
import {
  bridgeGateway, engine, engineExec, freePort, inspectContainer, removeContainersByLabel, testDockerEndpoint, testImage, uniqueName,
} from '../support/docker';

const TEST_LABEL = 'io.ecoware.test';
const TEST_VALUE = 'docker-driver';
const MIB = 1024 * 1024;

function spec(overrides: Partial<ContainerSpec> = {}): ContainerSpec {
  const name = overrides.name ?? uniqueName('ecodrv');
  return {
    name,
    app: 'drvapp',
    tier: name,
    vm: 'local',
    image: testImage(),
    cpuset: [0],
    memoryMb: 64,
    ports: [],
    environment: {},
    args: [],
    extraHosts: [],
    labels: { [TEST_LABEL]: TEST_VALUE },
    ...overrides,
  };
}

/** A container the runtime must never touch: created straight through the engine. */
async function createForeign(name: string, labels: Record<string, string>): Promise<string> {
  const container = await engine().createContainer({ name, Image: testImage(), Labels: { [TEST_LABEL]: TEST_VALUE, ...labels } });
  await container.start();
  return container.id;
}

async function fetchWithRetry(url: string): Promise<string> {
  let lastError: unknown;
  for (let attempt = 0; attempt < 50; attempt++) {
    try {
      const response = await fetch(url);
      if (response.ok) return await response.text();
      lastError = new Error(`HTTP ${response.status}`);
    } catch (err) {
      lastError = err;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw lastError;
}

let runtime: ContainerRuntime;

beforeAll(async () => {
  runtime = createDockerRuntime(testDockerEndpoint());
  await removeContainersByLabel(TEST_LABEL, TEST_VALUE);
});

afterAll(async () => {
  await removeContainersByLabel(TEST_LABEL, TEST_VALUE);
});

describe('DockerContainerRuntime against the real engine', () => {
  describe('create', () => {
    it('creates and starts a labelled, pinned, memory- and swap-limited container', async () => {
      const s = spec({
        cpuset: [0],
        memoryMb: 64,
        environment: { GREETING: 'hello world', EMPTY: '' },
        extraHosts: [{ host: 'db', address: '10.11.12.13' }],
      });
      const created = await runtime.create(s);

      const info = await inspectContainer(s.name);
      expect(info).toBeDefined();
      expect(info!.Id).toBe(created.id);
      expect(info!.Name).toBe(`/${s.name}`);
      expect(info!.State.Running).toBe(true);
      expect(info!.Config.Labels).toMatchObject({
        [LABEL_MANAGED]: 'true', [LABEL_APP]: 'drvapp', [LABEL_TIER]: s.tier, [LABEL_FLAT_TIER]: s.name, [LABEL_VM]: 'local',
        [TEST_LABEL]: TEST_VALUE,
      });
      expect(info!.HostConfig.CpusetCpus).toBe('0');
      expect(info!.HostConfig.Memory).toBe(64 * MIB);
      expect(info!.HostConfig.MemorySwap).toBe(64 * MIB);
      expect(info!.HostConfig.RestartPolicy?.Name).toBe('unless-stopped');
      // No args: the image keeps its own command.
      expect(info!.Config.Cmd).toEqual(['/bin/sleep', '1000000']);

      const env = await engineExec(created.id, ['env']);
      expect(env.output.split('\n')).toEqual(expect.arrayContaining(['GREETING=hello world', 'EMPTY=']));
      const hosts = await engineExec(created.id, ['cat', '/etc/hosts']);
      expect(hosts.output).toMatch(/^10\.11\.12\.13\s+db$/m);

      expect(created).toMatchObject({
        name: s.name, flatTier: s.name, app: 'drvapp', vm: 'local', state: 'running',
        cpuset: [0], cpusetCpus: '0', memoryBytes: 64 * MIB, memorySwapBytes: 64 * MIB,
      });
    });

    it('passes arguments verbatim, without a shell in between', async () => {
      const s = spec({
        args: ['sh', '-c', 'printf "%s|%s|%s" "$#" "$1" "$2" > /tmp/args; exec sleep 1000000', 'sh', 'arg with spaces', '$HOME'],
      });
      const created = await runtime.create(s);
      let written = '';
      for (let attempt = 0; attempt < 50 && written === ''; attempt++) {
        written = (await engineExec(created.id, ['cat', '/tmp/args'])).output;
        if (written === '') await new Promise((r) => setTimeout(r, 100));
      }
      expect(written).toBe('2|arg with spaces|$HOME');
    });

    it('pins to several cores and publishes ports that serve', async () => {
      const hostPort = await freePort();
      const s = spec({
        cpuset: [0, 1],
        memoryMb: 96,
        args: ['httpd', '-f', '-p', '80', '-h', '/var/www'],
        ports: [{ hostPort, containerPort: 80, protocol: 'tcp', hostIp: '127.0.0.1' }],
      });
      const created = await runtime.create(s);
      await runtime.putFile(created.id, '/var/www/index.html', 'served by ecoware\n');

      const info = await inspectContainer(created.id);
      expect(info!.HostConfig.CpusetCpus).toBe('0,1');
      expect(info!.HostConfig.Memory).toBe(96 * MIB);
      expect(info!.HostConfig.PortBindings).toEqual({ '80/tcp': [{ HostIp: '127.0.0.1', HostPort: String(hostPort) }] });
      expect(await fetchWithRetry(`http://127.0.0.1:${hostPort}/index.html`)).toBe('served by ecoware\n');
    });

    it('replaces a stale managed container of the same name', async () => {
      const name = uniqueName('ecodrv-stale');
      const staleId = await createForeign(name, { [LABEL_MANAGED]: 'true', [LABEL_FLAT_TIER]: name, [LABEL_VM]: 'local' });

      const created = await runtime.create(spec({ name }));

      expect(created.id).not.toBe(staleId);
      expect(await inspectContainer(staleId)).toBeUndefined();
      expect((await inspectContainer(name))!.Id).toBe(created.id);
    });

    it('refuses to replace a container that is not managed, and leaves it untouched', async () => {
      const name = uniqueName('ecodrv-foreign');
      const foreignId = await createForeign(name, {});
      const before = await inspectContainer(foreignId);

      await expect(runtime.create(spec({ name }))).rejects.toThrow(ConflictError);

      const after = await inspectContainer(name);
      expect(after!.Id).toBe(foreignId);
      expect(after!.State.Running).toBe(true);
      expect(after!.State.StartedAt).toBe(before!.State.StartedAt);
      expect(after!.Config.Labels[LABEL_MANAGED]).toBeUndefined();
    });

    it("refuses to replace a managed container of another VM sharing the engine", async () => {
      const name = uniqueName('ecodrv-othervm');
      const otherId = await createForeign(name, { [LABEL_MANAGED]: 'true', [LABEL_FLAT_TIER]: name, [LABEL_VM]: 'node2' });

      await expect(runtime.create(spec({ name, vm: 'local' }))).rejects.toThrow(/belongs to vm 'node2'/);

      const after = await inspectContainer(name);
      expect(after!.Id).toBe(otherId);
      expect(after!.State.Running).toBe(true);
    });

    it('fails with an InfrastructureError naming the image when it cannot be had, leaving nothing behind', async () => {
      const s = spec({ image: '127.0.0.1:1/ecoware-missing:never' });
      const error = await runtime.create(s).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(InfrastructureError);
      expect((error as Error).message).toContain("pull image '127.0.0.1:1/ecoware-missing:never' failed");
      expect((error as Error).message).toContain(testDockerEndpoint().url);
      expect(await inspectContainer(s.name)).toBeUndefined();
    });

    it('removes the container again when it cannot start', async () => {
      const hostPort = await freePort();
      const first = await runtime.create(spec({ ports: [{ hostPort, containerPort: 80, protocol: 'tcp', hostIp: '127.0.0.1' }] }));
      const second = spec({ ports: [{ hostPort, containerPort: 80, protocol: 'tcp', hostIp: '127.0.0.1' }] });

      await expect(runtime.create(second)).rejects.toThrow(InfrastructureError);

      expect(await inspectContainer(second.name)).toBeUndefined();
      expect((await inspectContainer(first.id))!.State.Running).toBe(true);
    });
  });

  describe('update', () => {
    it('resizes in place, growing and shrinking cores and memory', async () => {
      const created = await runtime.create(spec({ cpuset: [0], memoryMb: 64 }));
      const cgroup = async () => ({
        cpus: (await engineExec(created.id, ['cat', '/sys/fs/cgroup/cpuset/cpuset.cpus'])).output.trim(),
        memory: (await engineExec(created.id, ['cat', '/sys/fs/cgroup/memory/memory.limit_in_bytes'])).output.trim(),
      });

      const grown = await runtime.update(created.id, { cpuset: [0, 1], memoryMb: 256 });
      let info = await inspectContainer(created.id);
      expect(info!.Id).toBe(created.id);
      expect(info!.State.Running).toBe(true);
      expect(info!.HostConfig.CpusetCpus).toBe('0,1');
      expect(info!.HostConfig.Memory).toBe(256 * MIB);
      expect(info!.HostConfig.MemorySwap).toBe(256 * MIB);
      expect(await cgroup()).toEqual({ cpus: '0-1', memory: String(256 * MIB) });
      expect(grown).toMatchObject({ id: created.id, cpuset: [0, 1], cpusetCpus: '0,1', memoryBytes: 256 * MIB });

      const shrunk = await runtime.update(created.id, { cpuset: [1], memoryMb: 32 });
      info = await inspectContainer(created.id);
      expect(info!.Id).toBe(created.id);
      expect(info!.HostConfig.CpusetCpus).toBe('1');
      expect(info!.HostConfig.Memory).toBe(32 * MIB);
      expect(info!.HostConfig.MemorySwap).toBe(32 * MIB);
      expect(await cgroup()).toEqual({ cpus: '1', memory: String(32 * MIB) });
      expect(shrunk).toMatchObject({ id: created.id, cpuset: [1], memoryBytes: 32 * MIB, memorySwapBytes: 32 * MIB });
    });

    it('reports a container that is gone as NotFoundError', async () => {
      await expect(runtime.update('ecodrv-no-such-container', { cpuset: [0], memoryMb: 64 })).rejects.toThrow(NotFoundError);
    });
  });

  describe('remove', () => {
    it('removes a running container, and removing it again succeeds', async () => {
      const created = await runtime.create(spec());
      await runtime.remove(created.id);
      expect(await inspectContainer(created.id)).toBeUndefined();
      await expect(runtime.remove(created.id)).resolves.toBeUndefined();
    });
  });

  describe('listManaged', () => {
    it('lists managed containers, with what the engine reports, and no others', async () => {
      const ours = await runtime.create(spec({ cpuset: [1], memoryMb: 48 }));
      const foreignName = uniqueName('ecodrv-unmanaged');
      const foreignId = await createForeign(foreignName, { [LABEL_FLAT_TIER]: foreignName });

      const listed = await runtime.listManaged();

      expect(listed.map((c) => c.id)).toContain(ours.id);
      expect(listed.map((c) => c.id)).not.toContain(foreignId);
      const engineView = await engine().listContainers({ all: true, filters: { label: [`${LABEL_MANAGED}=true`] } });
      expect(listed.map((c) => c.id).sort()).toEqual(expect.arrayContaining(engineView.map((c) => c.Id)));
      expect(listed.find((c) => c.id === ours.id)).toMatchObject({
        state: 'running', cpuset: [1], cpusetCpus: '1', memoryBytes: 48 * MIB, image: testImage(),
      });
      expect((await runtime.listManaged()).map((c) => c.id)).toContain(ours.id);
    });
  });

  describe('files', () => {
    let id: string;
    beforeAll(async () => {
      id = (await runtime.create(spec())).id;
    });

    it('round-trips a binary file through new parent directories', async () => {
      const content = Buffer.from(Array.from({ length: 3000 }, (_, i) => i % 256));
      await runtime.putFile(id, '/opt/ecoware/deep/dir/blob.bin', content, 0o750);

      expect(Buffer.compare(await runtime.readFile(id, '/opt/ecoware/deep/dir/blob.bin'), content)).toBe(0);
      const listing = await engineExec(id, ['ls', '-l', '/opt/ecoware/deep/dir/blob.bin']);
      expect(listing.output).toMatch(/^-rwxr-x---\s.*\s3000\s/);
      expect((await engineExec(id, ['wc', '-c', '/opt/ecoware/deep/dir/blob.bin'])).output).toMatch(/^\s*3000\s/);
    });

    it('writes into an existing directory without changing its mode', async () => {
      expect((await engineExec(id, ['mkdir', '-m', '1733', '/drop'])).exitCode).toBe(0);
      await runtime.putFile(id, '/drop/hook.sh', '#!/bin/sh\necho hi\n', 0o755);
      expect((await engineExec(id, ['ls', '-ld', '/drop'])).output).toMatch(/^drwx-wx-wt/);
      expect((await engineExec(id, ['/drop/hook.sh'])).output).toBe('hi\n');
    });

    it('reports a missing file as NotFoundError', async () => {
      await expect(runtime.readFile(id, '/no/such/file')).rejects.toThrow(NotFoundError);
    });
  });

  describe('exec', () => {
    let id: string;
    beforeAll(async () => {
      id = (await runtime.create(spec({ cpuset: [1] }))).id;
    });

    async function running(pattern: string): Promise<string[]> {
      const ps = await engineExec(id, ['ps']);
      return ps.output.split('\n').filter((line) => line.includes(pattern));
    }

    it('feeds stdin and closes it, so cat ends', async () => {
      const result = await runtime.exec(id, { argv: ['cat'], stdin: 'hello\nworld', timeoutMs: 20_000 });
      expect(result).toMatchObject({ exitCode: 0, stdout: 'hello\nworld', stderr: '', timedOut: false, cancelled: false, truncated: false });
    });

    it('feeds a large stdin completely', async () => {
      const input = 'x'.repeat(1_000_000);
      const result = await runtime.exec(id, { argv: ['wc', '-c'], stdin: input, timeoutMs: 20_000 });
      expect(result.exitCode).toBe(0);
      expect(result.stdout.trim()).toBe('1000000');
    });

    it('sets environment and working directory', async () => {
      const result = await runtime.exec(id, {
        argv: ['sh', '-c', 'echo "$FOO"; pwd'], env: { FOO: 'a b $HOME' }, cwd: '/tmp', timeoutMs: 20_000,
      });
      expect(result.stdout).toBe('a b $HOME\n/tmp\n');
    });

    it('keeps stderr apart and reports the exit code', async () => {
      const result = await runtime.exec(id, { argv: ['sh', '-c', 'echo out; echo err >&2; exit 3'], timeoutMs: 20_000 });
      expect(result).toMatchObject({ exitCode: 3, stdout: 'out\n', stderr: 'err\n' });
    });

    it('bounds the output it keeps and says so', async () => {
      const result = await runtime.exec(id, {
        argv: ['sh', '-c', 'i=0; while [ $i -lt 2000 ]; do echo 0123456789; i=$((i+1)); done; echo done >&2'],
        maxOutputBytes: 100,
        timeoutMs: 20_000,
      });
      expect(result.exitCode).toBe(0);
      expect(result.truncated).toBe(true);
      expect(result.stdout).toBe('0123456789\n'.repeat(10).slice(0, 100));
      expect(result.stderr).toBe('done\n');
    });

    it('kills the process on timeout', async () => {
      const result = await runtime.exec(id, { argv: ['sleep', '31337'], timeoutMs: 1_000 });
      expect(result).toMatchObject({ exitCode: null, timedOut: true, cancelled: false });
      expect(await running('sleep 31337')).toEqual([]);
    });

    it('kills the process and its children when cancelled', async () => {
      const controller = new AbortController();
      const pending = runtime.exec(id, { argv: ['sh', '-c', 'sleep 31338 & sleep 31339; wait'], timeoutMs: 60_000, signal: controller.signal });
      // Cancel once both processes are there, so the kill has something to find.
      for (let attempt = 0; attempt < 100 && (await running('sleep 3133')).length < 2; attempt++) {
        await new Promise((r) => setTimeout(r, 50));
      }
      controller.abort();
      const result = await pending;
      expect(result).toMatchObject({ exitCode: null, timedOut: false, cancelled: true });
      expect(await running('sleep 3133')).toEqual([]);
    });

    it('does not start a command already cancelled', async () => {
      const controller = new AbortController();
      controller.abort();
      const result = await runtime.exec(id, { argv: ['sh', '-c', 'echo ran > /tmp/cancelled-early'], timeoutMs: 20_000, signal: controller.signal });
      expect(result).toMatchObject({ exitCode: null, cancelled: true });
      expect((await engineExec(id, ['cat', '/tmp/cancelled-early'])).exitCode).not.toBe(0);
    });

    it('reports a missing program through the exit code', async () => {
      const result = await runtime.exec(id, { argv: ['/no/such/program'], timeoutMs: 20_000 });
      expect(result.exitCode).not.toBe(0);
      expect(result.exitCode).not.toBeNull();
    });
  });

  describe('engine', () => {
    it('reports the engine info', async () => {
      const expected = await engine().info();
      await expect(runtime.ping()).resolves.toBeUndefined();
      expect(await runtime.info()).toEqual({ cpus: expected.NCPU, memoryBytes: expected.MemTotal, serverVersion: expected.ServerVersion });
    });

    it('gives the bridge gateway as the address of a local engine, the URL host for a remote one', async () => {
      const gateway = await bridgeGateway();
      expect(gateway).toMatch(/^\d+\.\d+\.\d+\.\d+$/);
      expect(await runtime.hostAddress()).toBe(gateway);
      expect(await createDockerRuntime({ url: 'tcp://10.20.30.40:2375' }).hostAddress()).toBe('10.20.30.40');
    });
  });

  describe('unreachable engines', () => {
    let silent: Server;
    const sockets: Socket[] = [];
    beforeAll(async () => {
      // Accepts connections and never answers: the engine that hangs.
      silent = createServer((socket) => sockets.push(socket));
      await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    });
    afterAll(async () => {
      sockets.forEach((s) => s.destroy());
      await new Promise<void>((resolve) => silent.close(() => resolve()));
    });

    it('fails with InfrastructureError naming the endpoint when the socket does not exist', async () => {
      const dead = createDockerRuntime({ url: 'unix:///nonexistent/ecoware/docker.sock' });
      const error = await dead.ping().catch((e: unknown) => e);
      expect(error).toBeInstanceOf(InfrastructureError);
      expect((error as Error).message).toContain('unix:///nonexistent/ecoware/docker.sock');
      expect((error as Error).message).not.toMatch(/\n\s+at /);
      await expect(dead.create(spec())).rejects.toThrow(/unix:\/\/\/nonexistent\/ecoware\/docker\.sock.*create container/);
    });

    it('fails with InfrastructureError when nothing listens on the port', async () => {
      const port = await freePort();
      const error = await createDockerRuntime({ url: `tcp://127.0.0.1:${port}` }).listManaged().catch((e: unknown) => e);
      expect(error).toBeInstanceOf(InfrastructureError);
      expect((error as Error).message).toContain(`tcp://127.0.0.1:${port}`);
    });

    it('gives up on an engine that never answers', async () => {
      const { port } = silent.address() as AddressInfo;
      const hanging = new DockerContainerRuntime({ url: `tcp://127.0.0.1:${port}` }, { callTimeoutMs: 300 });
      const pingError = await hanging.ping(300).catch((e: unknown) => e);
      expect(pingError).toBeInstanceOf(InfrastructureError);
      expect((pingError as InfrastructureError).code).toBe('timeout');
      await expect(hanging.remove('whatever')).rejects.toThrow(/timed out/);
    });
  });
});

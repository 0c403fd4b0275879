import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createServer, AddressInfo } from 'node:net';
import { PassThrough } from 'node:stream';
import { promisify } from 'node:util';
import Docker from 'dockerode';
import { DockerEndpoint } from '../../src/drivers/docker/docker-endpoint';
import { LABEL_APP } from '../../src/drivers/docker/labels';

/**
 * Test helpers for the real engine. Tests assert by asking the engine through `engine()`, never
 * through the code under test, and remove what they made by a label of their own.
 */

export const DEFAULT_TEST_SOCKET = 'unix:///var/run/docker.sock';

/** The engine scripts/ensure-docker.sh exported, as a node endpoint. */
export function testDockerEndpoint(): DockerEndpoint {
  const host = process.env.DOCKER_HOST || DEFAULT_TEST_SOCKET;
  return { url: host, ...(process.env.DOCKER_CERT_PATH ? { certPath: process.env.DOCKER_CERT_PATH } : {}) };
}

/** The local busybox image (no registry is reachable: never pulled). */
export function testImage(): string {
  return process.env.ECOWARE_TEST_IMAGE || 'ecoware/busybox:latest';
}

/** dockerode on the test engine, configured from DOCKER_HOST like the docker CLI. */
export function engine(): Docker {
  return new Docker();
}

export async function inspectContainer(idOrName: string): Promise<Docker.ContainerInspectInfo | undefined> {
  try {
    return await engine().getContainer(idOrName).inspect();
  } catch (err) {
    if ((err as { statusCode?: number }).statusCode === 404) return undefined;
    throw err;
  }
}

/**
 * The host as containers of the local engine see it: the address of the default bridge's interface,
 * read from the machine (`ip`), since an engine on its first start may list no gateway at all.
 */
export async function bridgeGateway(): Promise<string | undefined> {
  const bridge = await engine().getNetwork('bridge').inspect();
  const listed = bridge.IPAM?.Config?.find((c: { Gateway?: string }) => c.Gateway)?.Gateway as string | undefined;
  const name = bridge.Options?.['com.docker.network.bridge.name'] as string | undefined;
  if (!name) return listed;
  const { stdout } = await promisify(execFile)('ip', ['-4', '-o', 'addr', 'show', 'dev', name]).catch(() => ({ stdout: '' }));
  return /inet (\d+\.\d+\.\d+\.\d+)\//.exec(stdout)?.[1] ?? listed;
}

/** Force-removes every container, running or not, that carries `label=value`. */
export async function removeContainersByLabel(label: string, value: string): Promise<number> {
  const docker = engine();
  const containers = await docker.listContainers({ all: true, filters: { label: [`${label}=${value}`] } });
  await Promise.all(containers.map(async (c) => {
    try {
      await docker.getContainer(c.Id).remove({ force: true, v: true });
    } catch (err) {
      const status = (err as { statusCode?: number }).statusCode;
      if (status !== 404 && status !== 409) throw err;
    }
  }));
  return containers.length;
}

/** Runs a command in a container straight through the engine; stdout and stderr together. */
export async function engineExec(id: string, argv: string[]): Promise<{ exitCode: number | null; output: string }> {
  const exec = await engine().getContainer(id).exec({ Cmd: argv, AttachStdout: true, AttachStderr: true });
  const stream = await exec.start({});
  const chunks: Buffer[] = [];
  await new Promise<void>((resolve, reject) => {
    stream.on('data', (c: Buffer) => chunks.push(c));
    stream.on('end', resolve);
    stream.on('error', reject);
  });
  const info = await exec.inspect();
  return { exitCode: info.ExitCode, output: stripFrames(Buffer.concat(chunks)) };
}

function stripFrames(data: Buffer): string {
  const parts: Buffer[] = [];
  let offset = 0;
  while (offset + 8 <= data.length) {
    const length = data.readUInt32BE(offset + 4);
    parts.push(data.subarray(offset + 8, offset + 8 + length));
    offset += 8 + length;
  }
  return Buffer.concat(parts).toString('utf8');
}

/** The containers of `app` on the test engine, by name: id, state, cpuset and memory as the engine reports them. */
export async function appContainers(app: string) {
  const list = await engine().listContainers({ all: true, filters: { label: [`${LABEL_APP}=${app}`] } });
  const inspected = await Promise.all(list.map((c) => engine().getContainer(c.Id).inspect()));
  return Object.fromEntries(inspected.map((c) => [c.Name.slice(1), {
    id: c.Id, state: c.State.Status, cpuset: c.HostConfig.CpusetCpus, memory: c.HostConfig.Memory,
  }]));
}

/** A TCP port nothing listens on right now, for publishing. */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** A name unlikely to collide with anything else on the shared engine. */
export function uniqueName(prefix: string): string {
  return `${prefix}-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
}

/** Labels on every plain test container: the area, and this test process, so that cleanup removes only
 * what this process made even while another run of the same tests is under way. */
export const TEST_LABEL = 'io.ecoware.test';
export const TEST_RUN_LABEL = 'io.ecoware.test.run';
const RUN_ID = `test-${process.pid}-${randomBytes(4).toString('hex')}`;

/** A plain long-running busybox container, not marked as managed: the executor's own listings never see it. */
export async function startTestContainer(docker: Docker, suffix: string): Promise<string> {
  const container = await docker.createContainer({
    name: `ecoware-test-${suffix}-${randomBytes(4).toString('hex')}`,
    Image: testImage(),
    Cmd: ['sleep', '100000'],
    Labels: { [TEST_LABEL]: suffix, [TEST_RUN_LABEL]: RUN_ID },
    HostConfig: { Memory: 64 * 1024 * 1024 },
  });
  await container.start();
  return container.id;
}

/** Removes the plain test containers this process started. */
export async function removeTestContainers(docker: Docker): Promise<void> {
  const mine = await docker.listContainers({ all: true, filters: { label: [`${TEST_RUN_LABEL}=${RUN_ID}`] } });
  await Promise.all(mine.map((c) => docker.getContainer(c.Id).remove({ force: true }).catch(() => undefined)));
}

/** Runs a command in the container through the engine directly (not through the code under test), stdout and stderr apart. */
export async function dockerExec(docker: Docker, id: string, cmd: string[]): Promise<{ stdout: string; stderr: string; exitCode: number | null }> {
  const exec = await docker.getContainer(id).exec({ Cmd: cmd, AttachStdout: true, AttachStderr: true });
  const stream = await exec.start({ hijack: true, stdin: false });
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  stdout.on('data', (c: Buffer) => out.push(c));
  stderr.on('data', (c: Buffer) => err.push(c));
  docker.modem.demuxStream(stream, stdout, stderr);
  await new Promise<void>((resolve) => {
    stream.once('end', () => resolve());
    stream.once('close', () => resolve());
  });
  let state = await exec.inspect();
  for (let i = 0; state.Running && i < 100; i++) {
    await new Promise((r) => setTimeout(r, 20));
    state = await exec.inspect();
  }
  return { stdout: Buffer.concat(out).toString(), stderr: Buffer.concat(err).toString(), exitCode: state.ExitCode ?? null };
}

export async function readInContainer(docker: Docker, id: string, file: string): Promise<string> {
  const { stdout, stderr, exitCode } = await dockerExec(docker, id, ['cat', file]);
  if (exitCode !== 0) throw new Error(`cat ${file} failed: ${stderr}`);
  return stdout;
}

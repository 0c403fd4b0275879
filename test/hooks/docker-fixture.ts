import { PassThrough } from 'node:stream';
import { randomBytes } from 'node:crypto';
import Docker from 'dockerode';

/** Labels on every container the hook tests create: the area, and this test process, so that cleanup
 * removes only what this process made even while another run of the same tests is under way. */
export const HOOK_TEST_LABEL = 'io.ecoware.test';
export const HOOK_TEST_LABEL_VALUE = 'hooks';
export const HOOK_TEST_RUN_LABEL = 'io.ecoware.test.run';
const RUN_ID = `hooks-${process.pid}-${randomBytes(4).toString('hex')}`;

export const dockerHost = process.env.DOCKER_HOST ?? 'unix:///var/run/docker.sock';
export const testImage = process.env.ECOWARE_TEST_IMAGE ?? 'ecoware/busybox:latest';

export function dockerClient(): Docker {
  const socketPath = dockerHost.replace(/^unix:\/\//, '');
  return new Docker({ socketPath });
}

/** A plain long-running busybox container, not marked as managed: the executor's own listings never see it. */
export async function startTestContainer(docker: Docker, suffix: string): Promise<string> {
  const container = await docker.createContainer({
    name: `ecoware-hooktest-${suffix}-${randomBytes(4).toString('hex')}`,
    Image: testImage,
    Cmd: ['sleep', '100000'],
    Labels: { [HOOK_TEST_LABEL]: HOOK_TEST_LABEL_VALUE, [HOOK_TEST_RUN_LABEL]: RUN_ID },
    HostConfig: { Memory: 64 * 1024 * 1024 },
  });
  await container.start();
  return container.id;
}

export async function removeTestContainers(docker: Docker): Promise<void> {
  const mine = await docker.listContainers({ all: true, filters: { label: [`${HOOK_TEST_RUN_LABEL}=${RUN_ID}`] } });
  await Promise.all(mine.map((c) => docker.getContainer(c.Id).remove({ force: true }).catch(() => undefined)));
}

/** Runs a command in the container through the engine directly (not through the code under test). */
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

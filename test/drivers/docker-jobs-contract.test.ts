import { ConflictError } from '../../src/domain/errors';
import { DockerContainerRuntime } from '../../src/drivers/docker/docker-container-runtime';
import { LABEL_IMAGE_BUILD, LABEL_MANAGED, LABEL_TASK } from '../../src/drivers/docker/labels';
import { engine, removeContainersByLabel, TEST_LABEL, testDockerEndpoint, testImage } from '../support/docker';
import { CONTRACT_IMAGE_PREFIX, jobsRuntimeContract } from '../support/jobs-runtime-contract';

const TEST_VALUE = 'jobs-contract';
const runtime = new DockerContainerRuntime(testDockerEndpoint());

async function removeContractImages(): Promise<void> {
  const images = await engine().listImages();
  for (const image of images) {
    for (const tag of image.RepoTags ?? []) {
      if (tag.startsWith(CONTRACT_IMAGE_PREFIX)) await engine().getImage(tag).remove({ force: true }).catch(() => undefined);
    }
  }
}

jobsRuntimeContract('DockerContainerRuntime', () => ({
  runtime,
  reconnect: () => new DockerContainerRuntime(testDockerEndpoint()),
  image: testImage(),
  labels: { [TEST_LABEL]: TEST_VALUE },
  async cleanup() {
    await removeContainersByLabel(TEST_LABEL, TEST_VALUE);
    await removeContractImages();
  },
}));

afterAll(async () => {
  await removeContainersByLabel(TEST_LABEL, TEST_VALUE);
  await removeContractImages();
});

describe('DockerContainerRuntime tasks, as the engine sees them', () => {
  const labels = { [TEST_LABEL]: TEST_VALUE };
  afterEach(async () => { await removeContainersByLabel(TEST_LABEL, TEST_VALUE); });

  it('marks a task as a task and never as managed, limits its swap to its memory, and never restarts it', async () => {
    const task = await runtime.tasks.start({
      name: `jobs-contract-marks-${process.pid}`, image: testImage(), argv: ['sleep', '300'], env: { GREETING: 'hi' }, cwd: '/tmp',
      cpuset: [0], memoryMb: 40, labels: { ...labels, [LABEL_MANAGED]: 'true', 'io.ecoware.job': 'j1' },
    });
    const info = await engine().getContainer(task.id).inspect();
    expect(info.Config.Labels).toMatchObject({ [LABEL_TASK]: 'true', 'io.ecoware.job': 'j1' });
    expect(info.Config.Labels[LABEL_MANAGED]).not.toBe('true');
    expect(info.Config.Env).toContain('GREETING=hi');
    expect(info.Config.WorkingDir).toBe('/tmp');
    expect(info.HostConfig).toMatchObject({ CpusetCpus: '0', Memory: 40 * 2 ** 20, MemorySwap: 40 * 2 ** 20, RestartPolicy: { Name: 'no' } });
    expect((await runtime.listManagedStates()).map((c) => c.id)).not.toContain(task.id);
  });

  it('keeps a task out of the managed containers even when its image carries the managed mark', async () => {
    const source = await engine().createContainer({ Image: testImage(), Labels: { ...labels, [LABEL_MANAGED]: 'true' } });
    const ref = `${CONTRACT_IMAGE_PREFIX}marked-${process.pid}:1`;
    const [repo, tag] = ref.split(':');
    await source.commit({ repo, tag });
    await source.remove({ force: true });
    const task = await runtime.tasks.start({ name: `jobs-contract-marked-${process.pid}`, image: ref, argv: ['sleep', '300'], env: {}, cpuset: [0], memoryMb: 32, labels });
    expect((await runtime.listManagedStates()).map((c) => c.id)).not.toContain(task.id);
    expect((await runtime.tasks.list()).find((t) => t.id === task.id)?.labels[LABEL_MANAGED]).toBeUndefined();
    await runtime.tasks.remove(task.id);
    await removeContractImages();
  });

  it('refuses to replace a container of the same name that is not a task, and leaves it running', async () => {
    const name = `jobs-contract-other-${process.pid}`;
    const other = await engine().createContainer({ name, Image: testImage(), Cmd: ['sleep', '300'], Labels: labels });
    await other.start();
    await expect(runtime.tasks.start({ name, image: testImage(), argv: ['true'], env: {}, cpuset: [0], memoryMb: 32, labels })).rejects.toBeInstanceOf(ConflictError);
    expect((await other.inspect()).State.Running).toBe(true);
    // Nor are its state, output or removal a task's business.
    expect(await runtime.tasks.inspect(other.id)).toBeUndefined();
    await runtime.tasks.remove(other.id);
    expect((await other.inspect()).State.Running).toBe(true);
  });
});

describe('DockerContainerRuntime image builds, as the engine sees them', () => {
  const buildContainers = async () => engine().listContainers({ all: true, filters: { label: [LABEL_IMAGE_BUILD] } });
  afterAll(removeContractImages);

  it('keeps the last 8 KiB of a long output, and leaves no build container behind, failed or not', async () => {
    const ref = `${CONTRACT_IMAGE_PREFIX}long-output-${process.pid}:1`;
    const failed = await runtime.images.build({
      baseImage: testImage(), script: 'i=0; while [ $i -lt 3000 ]; do echo "line $i"; i=$((i+1)); done; echo "last words"; exit 5',
      cwd: '/work', ref, command: ['true'], timeoutMs: 60_000, labels: {},
    });
    expect(failed.exitCode).toBe(5);
    expect(Buffer.byteLength(failed.output)).toBeLessThanOrEqual(8 * 1024);
    // One stream: its order is kept (stdout and stderr are copied apart by the engine, and may interleave late).
    expect(failed.output).toMatch(/line 2999\nlast words\n$/);
    expect(failed.output).not.toContain('line 0\n');
    const made = await runtime.images.build({
      baseImage: testImage(), script: 'echo ok > ready', cwd: '/work', ref, command: ['cat', 'ready'], check: ['test', '-s', 'ready'], timeoutMs: 60_000, labels: {},
    });
    expect(made).toMatchObject({ exitCode: 0, checkExitCode: 0 });
    const image = await engine().getImage(ref).inspect();
    expect(image.Config).toMatchObject({ Cmd: ['cat', 'ready'], WorkingDir: '/work' });
    expect(await buildContainers()).toEqual([]);
  });
});

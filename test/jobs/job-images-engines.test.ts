import { NotFoundError } from '../../src/domain/errors';
import { Vm } from '../../src/domain/vm';
import { runtimesByEngine } from '../../src/drivers/runtime-drivers';
import { TaskStream } from '../../src/ports/container-runtime';
import { JobImages } from '../../src/use-cases/jobs/job-images';
import { testImage } from '../support/docker';
import { engineClient, startEngine, TestEngine } from '../support/engines';

/**
 * A template's image built on one real engine reaches another with no registry: saved there and
 * loaded here, streamed, once for concurrent asks; a job's task of it then runs there.
 */
describe('job images across two engines', () => {
  let engines: TestEngine[];
  let a: Vm;
  let b: Vm;
  const runtimeFor = runtimesByEngine();
  const images = new JobImages(runtimeFor);
  const ref = `ecoware-job/copy-test-${process.pid}:1`;

  beforeAll(async () => {
    engines = await Promise.all([startEngine(31), startEngine(32)]);
    [a, b] = engines.map((e, i): Vm => ({ name: `n${i + 1}`, capacity: { cpu_cores: 2, mem_units: 4 }, engine: { kind: 'docker', url: e.endpoint } }));
  }, 180_000);

  afterAll(async () => {
    await Promise.all((engines ?? []).map((e) => e.stop()));
  });

  it('builds on one engine, copies once to the other for concurrent asks, and a task of the image runs there', async () => {
    const built = await images.build(a, {
      baseImage: testImage(), script: `printf '#!/bin/sh\\necho "resized $1"\\n' > main.sh && chmod +x main.sh`, cwd: '/opt/activity',
      ref, command: ['./main.sh'], check: ['test', '-x', 'main.sh'], timeoutMs: 60_000, labels: { 'io.ecoware.template': 'copy-test' },
    });
    expect(built).toMatchObject({ exitCode: 0, checkExitCode: 0 });
    expect(await images.whereIs(ref, [a, b])).toEqual(['n1']);

    const outcomes = await Promise.all([images.ensureOn(ref, b, [a]), images.ensureOn(ref, b, [a])]);
    expect(outcomes).toEqual(['copied', 'copied']);
    // Asked of the engine itself, not of the code under test.
    const copied = await engineClient(engines[1]).getImage(ref).inspect();
    expect(copied.Id).toBe(built.imageId);
    expect(copied.Config.Labels).toMatchObject({ 'io.ecoware.template': 'copy-test' });
    expect(await images.whereIs(ref, [a, b])).toEqual(['n1', 'n2']);
    expect(await images.ensureOn(ref, b, [a])).toBe('present');

    const tasks = runtimeFor(b).tasks!;
    const task = await tasks.start({ name: 'copy-test-task', image: ref, argv: ['./main.sh', 'photo.png'], env: {}, cpuset: [0], memoryMb: 32, labels: {} });
    expect((await tasks.wait(task.id)).exitCode).toBe(0);
    const out: Record<TaskStream, string> = { stdout: '', stderr: '' };
    await tasks.logs(task.id, { follow: false, onChunk: (stream, data) => { out[stream] += data.toString(); } });
    expect(out).toEqual({ stdout: 'resized photo.png\n', stderr: '' });
    await tasks.remove(task.id);
  });

  it('is not found, naming the image, when no engine has it', async () => {
    const missing = 'ecoware-job/never-built:1';
    await expect(images.ensureOn(missing, b, [a])).rejects.toThrow(NotFoundError);
    await expect(images.ensureOn(missing, b, [a])).rejects.toThrow(missing);
  });
});

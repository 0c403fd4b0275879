import { InfrastructureError, NotFoundError } from '../../src/domain/errors';
import { Vm } from '../../src/domain/vm';
import { FakeContainerRuntime, FakeEngines } from '../../src/drivers/fake/fake-container-runtime';
import { ContainerRuntime, ImageBuildSpec } from '../../src/ports/container-runtime';
import { JobImages } from '../../src/use-cases/jobs/job-images';

const node = (name: string): Vm => ({ name, capacity: { cpu_cores: 4, mem_units: 8 }, engine: { kind: 'docker', url: `fake://${name}` } });
const REF = 'ecoware-job/resize:1';
const buildSpec: ImageBuildSpec = {
  baseImage: 'busybox', script: 'echo ok', cwd: '/opt/job', ref: REF, command: ['./main.sh'], timeoutMs: 10_000, labels: {},
};

describe('JobImages', () => {
  let engines: FakeEngines;
  let images: JobImages;
  const [a, b, c] = [node('a'), node('b'), node('c')];

  beforeEach(() => {
    engines = new FakeEngines();
    images = new JobImages(engines.runtimeFor);
  });

  it("builds on the node's engine, and answers what the build said", async () => {
    engines.engine('fake://b').images.buildBehaviour = () => ({ exitCode: 2, output: 'no curl in the base image' });
    expect(await images.build(a, buildSpec)).toMatchObject({ exitCode: 0 });
    expect(await images.build(b, buildSpec)).toEqual({ exitCode: 2, output: 'no curl in the base image' });
    expect(await images.whereIs(REF, [a, b, c])).toEqual(['a']);
  });

  it('refuses to build on a node whose runtime cannot handle images', async () => {
    const plain = Object.create(new FakeContainerRuntime(), { images: { value: undefined } }) as ContainerRuntime;
    const without = new JobImages(() => plain);
    await expect(without.build(a, buildSpec)).rejects.toThrow(InfrastructureError);
    await expect(without.build(a, buildSpec)).rejects.toThrow(/node 'a'/);
  });

  it('answers present without copying when the target has the image', async () => {
    await images.build(a, buildSpec);
    expect(await images.ensureOn(REF, a, [b])).toBe('present');
    expect(engines.calls.filter((call) => call.op === 'images.save')).toEqual([]);
  });

  it('copies from the first source that has the image, and the target has it then', async () => {
    await images.build(c, buildSpec);
    expect(await images.ensureOn(REF, a, [b, c])).toBe('copied');
    expect(await engines.engine('fake://a').images.has(REF)).toBe(true);
    expect(engines.calls.filter((call) => call.op === 'images.save').map((call) => call.engine)).toEqual(['fake://c']);
    expect(await images.whereIs(REF, [a, b, c])).toEqual(['a', 'c']);
    expect(await images.ensureOn(REF, a, [c])).toBe('present');
  });

  it('copies once for concurrent asks of the same image on the same node', async () => {
    await images.build(b, buildSpec);
    const outcomes = await Promise.all([images.ensureOn(REF, a, [b]), images.ensureOn(REF, a, [b]), images.ensureOn(REF, a, [b])]);
    expect(outcomes).toEqual(['copied', 'copied', 'copied']);
    expect(engines.engine('fake://a').callsOf('images.load')).toHaveLength(1);
  });

  it('is not found, naming the image, when no source has it', async () => {
    const attempt = images.ensureOn(REF, a, [b, c]);
    await expect(attempt).rejects.toThrow(NotFoundError);
    await expect(images.ensureOn(REF, a, [b, c])).rejects.toThrow(REF);
  });

  it('goes on to the next source when one cannot be asked, and says so when none had it', async () => {
    await images.build(c, buildSpec);
    engines.engine('fake://b').failNext('images.has', new InfrastructureError('engine unreachable', 'engine'));
    expect(await images.ensureOn(REF, a, [b, c])).toBe('copied');
    engines.engine('fake://b').failNext('images.has', new InfrastructureError('engine unreachable', 'engine'));
    await expect(images.ensureOn('ecoware-job/other:1', a, [b, c])).rejects.toThrow(/not asked: b \(engine unreachable\)/);
  });

  it('leaves out of whereIs a node that cannot be asked', async () => {
    await images.build(a, buildSpec);
    await images.build(b, buildSpec);
    engines.engine('fake://b').failNext('images.has', new InfrastructureError('engine unreachable', 'engine'));
    expect(await images.whereIs(REF, [a, b])).toEqual(['a']);
  });
});

import { guardCalls } from '../../src/drivers/lead-guard';
import { FakeContainerRuntime } from '../../src/drivers/fake/fake-container-runtime';
import { ContainerRuntime, RuntimeImages, RuntimeTasks } from '../../src/ports/container-runtime';

/** A daemon that stopped leading makes no further engine call: the guard refuses it before it reaches the engine. */
describe('guardCalls', () => {
  it('passes calls through while the daemon may act, and refuses every call once it may not', async () => {
    let leading = true;
    const engine = new FakeContainerRuntime();
    const guarded = guardCalls(engine, () => leading);
    await guarded.ping();
    expect((await guarded.info()).serverVersion).toBe('fake');
    expect(guarded.endpoint).toEqual(engine.endpoint);
    expect(engine.calls).toHaveLength(2);
    leading = false;
    expect(() => guarded.remove('a_db')).toThrow(/does not lead/);
    expect(() => guarded.listManaged()).toThrow(expect.objectContaining({ code: 'cancelled' }));
    // The runtime's capability objects are refused as the runtime itself.
    expect(() => guarded.volumes!.create({ name: 'v', driver: 'local', driverOpts: {}, labels: {} })).toThrow(/does not lead/);
    expect(() => guarded.systemNetworks!.remove('sid', { volumes: true })).toThrow(/does not lead/);
    expect(engine.calls).toHaveLength(2);
  });

  it('guards every method of every capability of the runtime too', async () => {
    let leading = true;
    const engine = new FakeContainerRuntime();
    const guarded = guardCalls(engine as ContainerRuntime, () => leading);
    await guarded.volumes!.create({ name: 'data', driver: 'local', driverOpts: {}, labels: {} });
    expect((await guarded.volumes!.list()).map((v) => v.name)).toEqual(['data']);
    expect(await guarded.systemNetworks!.listVolumes('s1')).toEqual([]);
    expect(engine.calls.map((c) => c.op)).toEqual(['volumes.create', 'volumes.list', 'systemNetworks.listVolumes']);
    // The same capability object each time it is read.
    expect(guarded.volumes).toBe(guarded.volumes);

    leading = false;
    // Every property of the fake that is an object with methods of its own is a capability.
    const names = Object.keys(engine).filter((key) => {
      const value = (engine as unknown as Record<string, unknown>)[key];
      return typeof value === 'object' && value !== null && Object.values(value).some((v) => typeof v === 'function');
    });
    expect(names.sort()).toEqual(['images', 'systemNetworks', 'tasks', 'volumes']);
    const refused: string[] = [];
    for (const name of names) {
      const capability = (guarded as unknown as Record<string, Record<string, unknown>>)[name];
      // Its methods, its own and its class's.
      const methods = [...new Set([
        ...Object.keys(capability),
        ...Object.getOwnPropertyNames(Object.getPrototypeOf((engine as unknown as Record<string, object>)[name])).filter((key) => key !== 'constructor'),
      ])].filter((key) => typeof capability[key] === 'function');
      expect(methods.length).toBeGreaterThan(0);
      for (const method of methods) {
        expect(() => (capability[method] as (...a: unknown[]) => unknown)('data', { volumes: true })).toThrow(/does not lead/);
        refused.push(`${name}.${method}`);
      }
    }
    expect(refused).toEqual(expect.arrayContaining([
      'systemNetworks.listVolumes', 'systemNetworks.remove', 'volumes.create', 'volumes.list', 'volumes.remove',
      'tasks.start', 'tasks.stop', 'tasks.remove', 'images.build', 'images.load', 'images.remove',
    ]));
    expect(engine.calls).toHaveLength(3);
    expect(engine.nodeVolumes.has('data')).toBe(true);
  });

  it('guards the methods of capabilities that are class instances (tasks, images), and leaves data alone', () => {
    const reached: string[] = [];
    class Tasks implements Partial<RuntimeTasks> {
      async list() { reached.push('tasks.list'); return []; }
      async stop() { reached.push('tasks.stop'); }
    }
    class Images implements Partial<RuntimeImages> {
      async has() { reached.push('images.has'); return true; }
      async remove() { reached.push('images.remove'); }
    }
    const runtime = { tasks: new Tasks(), images: new Images(), labels: { a: 'b' }, names: ['x'], seen: new Map([['k', 1]]) };
    let leading = true;
    const guarded = guardCalls(runtime, () => leading);
    void guarded.tasks.list();
    void guarded.images.has();
    expect(reached).toEqual(['tasks.list', 'images.has']);
    leading = false;
    for (const call of [() => guarded.tasks.list(), () => guarded.tasks.stop(), () => guarded.images.has(), () => guarded.images.remove()]) {
      expect(call).toThrow(/does not lead/);
    }
    expect(reached).toEqual(['tasks.list', 'images.has']);
    // Data is what it was: the same array and map (their methods are not engine calls).
    expect(guarded.names).toBe(runtime.names);
    expect(guarded.seen.get('k')).toBe(1);
    expect(guarded.labels).toBe(runtime.labels);
  });
});

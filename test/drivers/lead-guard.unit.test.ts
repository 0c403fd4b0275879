import { guardCalls } from '../../src/drivers/lead-guard';
import { FakeContainerRuntime } from '../../src/drivers/fake/fake-container-runtime';

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
});

import { startEngine, TestEngine } from '../../test/support/engines';

/**
 * Private Docker engines for the benchmarks: each a dockerd of its own on 127.0.0.N with the test
 * image loaded (see test/support/engines.ts). Stopping an engine removes its containers with it, so a
 * benchmark leaves nothing behind even when it fails half-way.
 */
export interface EnginePool {
  engines: TestEngine[];
  stop(): Promise<void>;
}

/** Preferred slots start here, away from the low indexes the test suites ask for. */
const FIRST_BENCH_INDEX = 40;
/** Engines starting at once: dockerd start-up is CPU-bound and the machine may have 2 cores. */
const START_CONCURRENCY = 3;

export async function startEnginePool(count: number, log: (line: string) => void = () => undefined): Promise<EnginePool> {
  const engines: TestEngine[] = [];
  let stopping: Promise<void> | undefined;
  const stop = () => {
    stopping ??= Promise.all(engines.map((e) => e.stop().catch((err: unknown) => log(`stopping ${e.endpoint}: ${String(err)}`)))).then(() => undefined);
    return stopping;
  };
  // An interrupted run still stops its engines before exiting.
  const onSignal = (signal: NodeJS.Signals) => {
    void stop().finally(() => process.exit(signal === 'SIGINT' ? 130 : 143));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);

  try {
    let next = 0;
    await Promise.all(Array.from({ length: Math.min(START_CONCURRENCY, count) }, async () => {
      while (next < count) {
        const index = next++;
        const engine = await startEngine(FIRST_BENCH_INDEX + index);
        engines.push(engine);
        log(`engine ${engines.length}/${count} up at ${engine.endpoint}`);
      }
    }));
  } catch (err) {
    await stop();
    throw err;
  }
  // Deterministic order for node names: by address.
  engines.sort((a, b) => compareAddresses(a.address, b.address));
  return {
    engines,
    async stop() {
      await stop();
      process.removeListener('SIGINT', onSignal);
      process.removeListener('SIGTERM', onSignal);
    },
  };
}

function compareAddresses(a: string, b: string): number {
  return Number(a.split('.').pop()) - Number(b.split('.').pop());
}

import Docker from 'dockerode';
import { DockerdEngine, SlotRange } from '../../dev/local-cloud/dockerd-engine';
import { saveImages } from '../../dev/local-cloud/image-archive';
import { testImage } from './docker';

/**
 * Extra Docker engines for tests that need several nodes: each is a private dockerd on its own
 * 127.0.0.N (API on port 2375, published ports on that address) with its own bridge and image store,
 * preloaded with the test image (ECOWARE_TEST_IMAGE, taken from the engine at DOCKER_HOST).
 */
export interface TestEngine {
  /** `tcp://127.0.0.N:2375` */
  endpoint: string;
  /** `127.0.0.N`: where the engine's published ports are. */
  address: string;
  /** Stops the engine and removes its bridge and directories (its containers go with it). */
  stop(): Promise<void>;
}

export const RANGE: SlotRange = { prefix: 'ecoeng', first: 20, last: 99, subnetOctet: 232, rootDir: '/var/lib/ecoware-test-engines' };

/**
 * Starts an engine. `index` distinguishes the engines of one test and picks the preferred address
 * 127.0.0.(20 + index); when another test run holds it, any free address of 127.0.0.20-99 is used,
 * so always read `address` / `endpoint` from the result.
 */
export async function startEngine(index: number): Promise<TestEngine> {
  const engine = await claimEngineWithTestImage(index);
  return { endpoint: engine.endpoint, address: engine.address, stop: () => engine.release() };
}

/**
 * Claims an engine of RANGE (preferring 127.0.0.(20 + index)), starts it and loads the test image
 * into it; on any failure the engine is released again.
 */
export async function claimEngineWithTestImage(index: number): Promise<DockerdEngine> {
  const engine = await DockerdEngine.claim({ range: RANGE, preferredSlot: RANGE.first + index });
  try {
    engine.start();
    // The archive lives in the engine's own directory, so stop() leaves nothing behind.
    const [tars] = await Promise.all([saveImages([testImage()], engine.dir), engine.waitReady()]);
    for (const tar of tars) await engine.loadImages(tar);
  } catch (err) {
    await engine.release();
    throw err;
  }
  return engine;
}

/** dockerode on an extra engine, straight to its TCP API (`tcp://127.0.0.N:2375`). */
export function engineClient(e: { endpoint: string }): Docker {
  const u = new URL(e.endpoint.replace('tcp:', 'http:'));
  return new Docker({ host: u.hostname, port: Number(u.port) });
}

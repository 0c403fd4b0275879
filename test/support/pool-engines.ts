import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { claimEngineWithTestImage } from './engines';

/**
 * An extra dockerd (see engines.ts) that a test can crash and bring back: `crash()` kills the
 * dockerd process with SIGKILL, as a machine or engine failure would; `revive()` starts it again on
 * the same data root, where its containers are found as the crash left them.
 */
export interface CrashableEngine {
  endpoint: string;
  address: string;
  crash(): Promise<void>;
  revive(): Promise<void>;
  stop(): Promise<void>;
}

export async function startCrashableEngine(index: number): Promise<CrashableEngine> {
  const engine = await claimEngineWithTestImage(index);
  return {
    endpoint: engine.endpoint,
    address: engine.address,
    async crash() {
      const pid = Number(await readFile(join(engine.dir, 'dockerd.pid'), 'utf8'));
      process.kill(pid, 'SIGKILL');
      while (alive(pid)) await new Promise((r) => setTimeout(r, 50));
      // Let the child's exit be seen, so that start() spawns a new one.
      await new Promise((r) => setTimeout(r, 200));
    },
    async revive() {
      // The killed engine's containerd may still be winding down: a start that exits at once is tried again.
      for (let attempt = 1; ; attempt++) {
        engine.start();
        try {
          await engine.waitReady(60_000);
          return;
        } catch (err) {
          if (attempt >= 10) throw err;
          await new Promise((r) => setTimeout(r, 1_000));
        }
      }
    },
    stop: () => engine.release(),
  };
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    // A zombie (killed, not yet reaped) counts as gone.
    return !/^\d+ \([^)]*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}

import { promises as fs } from 'fs';
import * as os from 'os';
import * as path from 'path';
import request from 'supertest';
import { DaemonConfig } from '../../src/config';
import { Daemon, startDaemon } from '../../src/main';

/**
 * A daemon on a static pool of real engines: the engines (engines.ts, pool-engines.ts) started one
 * after another, a daemon on port 0 with a new state dir, and the pool's topology PUT, node `n${i + 1}`
 * on engine i. What the test sets up (engines, sizes, intervals, apps) is passed in, so it reads in
 * the test.
 */
export interface PoolDaemonSetup<E extends PoolEngine> {
  /** startEngine or startCrashableEngine: called once an index, in order. */
  startEngine: (index: number) => Promise<E>;
  /** The engines' indexes (their preferred 127.0.0.N slots, see engines.ts). */
  engineIndexes: number[];
  /** Labels of node `n${i + 1}`. */
  nodeLabels?: (i: number) => Record<string, string>;
  /** The daemon's configuration besides its port and state dir. */
  daemonConfig?: Omit<Partial<DaemonConfig>, 'port' | 'stateDir'>;
  /** The topology's infrastructure besides its cloud_driver (the static pool). */
  infrastructure: Record<string, unknown>;
  /** The topology's apps, PUT once the daemon is up; without them the daemon starts with no topology. */
  apps?: unknown[];
}

/** What the fixture needs of an engine: TestEngine and CrashableEngine both are one. */
export interface PoolEngine {
  endpoint: string;
  stop(): Promise<void>;
}

export type Api = ReturnType<typeof request>;

export interface PoolDaemon<E extends PoolEngine> {
  readonly engines: E[];
  readonly stateDir: string;
  /** The running daemon and a client of it: both are new after restartDaemon(). */
  readonly daemon: Daemon;
  readonly api: Api;
  /** A topology of the pool (its nodes and the infrastructure it was set up with) with these apps. */
  topology(apps: unknown[]): { infrastructure: Record<string, unknown>; apps: unknown[] };
  /** Closes the daemon, runs `whileStopped`, and starts a daemon again with the same configuration and state. */
  restartDaemon(whileStopped?: () => Promise<void>): Promise<void>;
  /** Closes the daemon, stops the engines and removes the state dir: whatever of that was started. */
  close(): Promise<void>;
}

/** Starts the pool; when any step fails, what was started is closed again before the error is thrown. */
export async function startPoolDaemon<E extends PoolEngine>(setup: PoolDaemonSetup<E>): Promise<PoolDaemon<E>> {
  const engines: E[] = [];
  let stateDir: string | undefined;
  let running: { daemon: Daemon; api: Api } | undefined;

  const topology = (apps: unknown[]) => ({
    infrastructure: {
      cloud_driver: { type: 'static', nodes: engines.map((e, i) => ({ name: `n${i + 1}`, docker: e.endpoint, ...(setup.nodeLabels ? { labels: setup.nodeLabels(i) } : {}) })) },
      ...setup.infrastructure,
    },
    apps,
  });
  const start = async (dir: string) => {
    const daemon = await startDaemon({ ...setup.daemonConfig, port: 0, stateDir: dir });
    running = { daemon, api: request(daemon.url) };
    return running;
  };
  const stopDaemon = async () => {
    const daemon = running?.daemon;
    running = undefined;
    await daemon?.close();
  };
  const close = async () => {
    await stopDaemon();
    // The engines' containers go with them.
    await Promise.all(engines.map((e) => e.stop()));
    if (stateDir) await fs.rm(stateDir, { recursive: true, force: true });
  };

  try {
    for (const index of setup.engineIndexes) engines.push(await setup.startEngine(index));
    stateDir = await fs.mkdtemp(path.join(os.tmpdir(), 'ecoware-pool-'));
    const { api } = await start(stateDir);
    if (setup.apps) {
      const res = await api.put('/api/topology').send(topology(setup.apps));
      if (res.status !== 200) throw new Error(`PUT /api/topology answered ${res.status}: ${JSON.stringify(res.body)}`);
    }
  } catch (err) {
    await close().catch(() => undefined);
    throw err;
  }

  const dir = stateDir;
  const current = () => {
    if (!running) throw new Error('the pool\'s daemon is not running');
    return running;
  };
  return {
    engines,
    stateDir: dir,
    get daemon() { return current().daemon; },
    get api() { return current().api; },
    topology,
    async restartDaemon(whileStopped) {
      await stopDaemon();
      await whileStopped?.();
      await start(dir);
    },
    close,
  };
}

import { execFile } from 'child_process';
import { existsSync, promises as fs } from 'fs';
import * as os from 'os';
import * as path from 'path';
import { promisify } from 'util';

const run = promisify(execFile);
/** The repository's scripts/ensure-postgres.sh, from test/support or from its compiled copy in dist-bench/test/support. */
const SCRIPT = [path.join(__dirname, '..', '..'), path.join(__dirname, '..', '..', '..')]
  .map((root) => path.join(root, 'scripts', 'ensure-postgres.sh'))
  .find((file) => existsSync(file)) ?? path.join(__dirname, '..', '..', 'scripts', 'ensure-postgres.sh');

/** A private PostgreSQL server (scripts/ensure-postgres.sh): its own temp data dir, a free loopback port. */
export interface TestPostgres {
  /** postgres://ecoware:ecoware@127.0.0.1:<port>/ecoware */
  url: string;
  /** Stops the server, keeping its data (a restart under the daemons). */
  stop(): Promise<void>;
  /** Starts it again on the same port and data. */
  start(): Promise<void>;
  /** Stops it and removes its data dir. */
  remove(): Promise<void>;
}

/** Starts one server; call `remove()` in afterAll. Takes a few seconds (initdb). */
export async function startPostgres(): Promise<TestPostgres> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'ecoware-pg-'));
  const script = (...args: string[]) => run('bash', [SCRIPT, ...args], { encoding: 'utf8', maxBuffer: 16 * 1024 * 1024 });
  try {
    const { stdout } = await script(dir);
    const url = stdout.trim().split('\n').pop() ?? '';
    return {
      url,
      stop: async () => { await script('--stop', dir); },
      start: async () => { await script(dir); },
      remove: async () => { await script('--remove', dir); },
    };
  } catch (e) {
    await script('--remove', dir).catch(() => undefined);
    throw e;
  }
}

/** A database of its own on `server` for one test (dropped with the server). */
export async function freshDatabase(server: TestPostgres, name: string): Promise<string> {
  const { Client } = await import('pg');
  const client = new Client({ connectionString: server.url });
  await client.connect();
  try {
    await client.query(`CREATE DATABASE "${name}"`);
  } finally {
    await client.end();
  }
  return server.url.replace(/\/ecoware$/, `/${name}`);
}

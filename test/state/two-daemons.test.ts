import { ChildProcess, spawn } from 'child_process';
import { promises as fs } from 'fs';
import * as os from 'os';
import * as path from 'path';
import request from 'supertest';
import { freePort, testDockerEndpoint } from '../support/docker';
import { startPostgres, TestPostgres } from '../support/postgres';
import { waitUntil } from '../support/wait-for';

/** Two `ecoware-executor start` processes on one PostgreSQL database: one leads, the other stands by and redirects changes. */
const CLI = path.join(__dirname, '..', '..', 'dist', 'cli.js');

describe('two daemons on PostgreSQL', () => {
  let pg: TestPostgres;
  let root: string;
  const daemons: ChildProcess[] = [];

  beforeAll(async () => {
    pg = await startPostgres();
    root = await fs.mkdtemp(path.join(os.tmpdir(), 'ecoware-two-'));
  }, 60_000);
  afterAll(async () => {
    for (const d of daemons) if (d.exitCode === null) d.kill('SIGKILL');
    await pg?.remove();
    await fs.rm(root, { recursive: true, force: true });
  }, 60_000);

  const start = async (name: string, leaseS = 15): Promise<{ url: string; child: ChildProcess; exited: Promise<number | null> }> => {
    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    const child = spawn(process.execPath, [CLI, 'start', '--port', String(port), '--state-dir', path.join(root, name), '--database-url', pg.url,
      '--advertise-url', url, '--lease-s', String(leaseS), '--log-level', 'warn'], { env: { ...process.env, DOCKER_HOST: testDockerEndpoint().url }, stdio: ['ignore', 'ignore', 'inherit'] });
    daemons.push(child);
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    await waitUntil(`${name} to answer /livez`, async () => ((await request(url).get('/livez')).status === 200 ? true : undefined), 30_000, { ignoreErrors: true });
    return { url, child, exited };
  };

  it('one leads; the standby names it, redirects a change to it, and leads once it stops', async () => {
    const a = await start('a');
    const leaderA = await waitUntil('a to lead', async () => {
      const res = await request(a.url).get('/api/leader');
      return res.status === 200 && res.body.self === 'leader' ? res.body : undefined;
    }, 30_000, { ignoreErrors: true });
    expect(leaderA.leader).toMatchObject({ url: a.url, epoch: 1 });
    const ready = await waitUntil('a to be ready', async () => {
      const res = await request(a.url).get('/readyz');
      return res.status === 200 ? res.body : undefined;
    }, 30_000);
    expect(ready).toMatchObject({ status: 'ok', role: 'leader' });

    const b = await start('b');
    // It answers `starting` while its modules load, then as a standby.
    const standby = await waitUntil('b to stand by', async () => {
      const res = await request(b.url).get('/api/leader');
      return res.status === 200 ? res.body : undefined;
    }, 30_000);
    expect(standby).toEqual({ self: 'standby', leader: leaderA.leader });
    expect((await request(b.url).get('/readyz'))).toMatchObject({ status: 503, body: { role: 'standby' } });
    const change = await request(b.url).put('/api/topology').send({ apps: [] });
    expect(change.status).toBe(307);
    expect(change.headers.location).toBe(`${a.url}/api/topology`);
    // Reads are served by the standby from the database, as the leader serves them.
    const read = await request(b.url).get('/api/executions');
    expect(read.status).toBe(200);
    expect(read.body).toEqual((await request(a.url).get('/api/executions')).body);

    // SIGTERM: a releases the lease and b takes over long before 15 s would have passed.
    const stopped = Date.now();
    a.child.kill('SIGTERM');
    expect(await a.exited).toBe(0);
    const leaderB = await waitUntil('b to lead', async () => {
      const res = await request(b.url).get('/api/leader');
      return res.status === 200 && res.body.self === 'leader' ? res.body : undefined;
    }, 30_000, { ignoreErrors: true });
    expect(Date.now() - stopped).toBeLessThan(10_000);
    expect(leaderB.leader).toMatchObject({ url: b.url, epoch: 2 });
    // b now serves reads and handles changes itself (this topology is refused as invalid, by b).
    expect((await request(b.url).get('/api/executions')).status).toBe(200);
    expect((await request(b.url).put('/api/topology').send({ apps: [] })).status).toBe(400);
    b.child.kill('SIGTERM');
    expect(await b.exited).toBe(0);
  });

  it('a leader paused past its lease is replaced, and once resumed stands by in the same process', async () => {
    const leads = async (url: string) => {
      const res = await request(url).get('/api/leader');
      return res.status === 200 && res.body.self === 'leader' ? res.body : undefined;
    };
    const a = await start('paused-a', 3);
    await waitUntil('a to lead', () => leads(a.url), 30_000, { ignoreErrors: true });
    const b = await start('paused-b', 3);
    a.child.kill('SIGSTOP');
    const leaderB = await waitUntil('b to lead', () => leads(b.url), 30_000, { ignoreErrors: true });
    expect(leaderB.leader).toMatchObject({ url: b.url });
    a.child.kill('SIGCONT');
    const standby = await waitUntil('a to stand by', async () => {
      const res = await request(a.url).get('/api/leader');
      return res.status === 200 && res.body.self === 'standby' ? res.body : undefined;
    }, 30_000, { ignoreErrors: true });
    expect(standby.leader).toMatchObject({ url: b.url, epoch: leaderB.leader.epoch });
    expect(a.child.exitCode).toBeNull();
    expect((await request(a.url).get('/readyz')).body).toMatchObject({ role: 'standby' });
    expect(await leads(b.url)).toMatchObject({ leader: { url: b.url, epoch: leaderB.leader.epoch } });
    b.child.kill('SIGTERM');
    expect(await b.exited).toBe(0);
    // The lease is released: the former leader takes it again, without having been restarted.
    await waitUntil('a to lead again', () => leads(a.url), 30_000, { ignoreErrors: true });
    a.child.kill('SIGTERM');
    expect(await a.exited).toBe(0);
  });
});

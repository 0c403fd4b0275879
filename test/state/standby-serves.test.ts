import { ChildProcess, spawn } from 'child_process';
import { promises as fs } from 'fs';
import * as http from 'http';
import * as os from 'os';
import * as path from 'path';
import request from 'supertest';
import { LABEL_APP } from '../../src/drivers/docker/labels';
import { freePort, removeContainersByLabel, testDockerEndpoint, testImage } from '../support/docker';
import { startPostgres, TestPostgres } from '../support/postgres';
import { waitUntil } from '../support/wait-for';

/**
 * Two `ecoware-executor start` processes on one PostgreSQL database and a real engine: the standby
 * serves the reads, the page and the event stream the leader serves; a change sent to it is
 * redirected; a leader paused past its lease becomes a standby in the same process, and leads again
 * when the lease is handed back.
 */
const CLI = path.join(__dirname, '..', '..', 'dist', 'cli.js');
const APP = `stby${process.pid}`;

interface SseEvent { id?: string; event?: string; data?: unknown }

/** Reads `/api/events` of `url` into `events` until closed. */
function followEvents(url: string, events: SseEvent[], headers: Record<string, string> = {}): () => void {
  let buffer = '';
  const req = http.get(`${url}/api/events`, { headers }, (res) => {
    res.setEncoding('utf8');
    res.on('data', (chunk: string) => {
      buffer += chunk;
      let end: number;
      while ((end = buffer.indexOf('\n\n')) >= 0) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        const event: SseEvent = {};
        for (const line of block.split('\n')) {
          const [field, ...rest] = line.split(': ');
          const value = rest.join(': ');
          if (field === 'id') event.id = value;
          if (field === 'event') event.event = value;
          if (field === 'data') event.data = JSON.parse(value);
        }
        if (event.event || event.id) events.push(event);
      }
    });
  });
  req.on('error', () => undefined);
  return () => req.destroy();
}

describe('a standby on PostgreSQL', () => {
  let pg: TestPostgres;
  let root: string;
  const daemons: ChildProcess[] = [];

  beforeAll(async () => {
    await removeContainersByLabel(LABEL_APP, APP);
    pg = await startPostgres();
    root = await fs.mkdtemp(path.join(os.tmpdir(), 'ecoware-standby-'));
  }, 60_000);
  afterAll(async () => {
    for (const d of daemons) if (d.exitCode === null) d.kill('SIGKILL');
    await removeContainersByLabel(LABEL_APP, APP);
    await pg?.remove();
    await fs.rm(root, { recursive: true, force: true });
  }, 60_000);

  const start = async (name: string): Promise<{ url: string; child: ChildProcess; exited: Promise<number | null> }> => {
    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    const child = spawn(process.execPath, [CLI, 'start', '--port', String(port), '--state-dir', path.join(root, name), '--database-url', pg.url,
      '--advertise-url', url, '--lease-s', '3', '--log-level', 'warn', '--solver-time-limit-ms', '5000'],
    { env: { ...process.env, DOCKER_HOST: testDockerEndpoint().url }, stdio: ['ignore', 'ignore', 'inherit'] });
    daemons.push(child);
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    await waitUntil(`${name} to answer /livez`, async () => ((await request(url).get('/livez')).status === 200 ? true : undefined), 30_000, { ignoreErrors: true });
    return { url, child, exited };
  };
  const role = async (url: string) => {
    const res = await request(url).get('/api/leader');
    return res.status === 200 ? res.body as { self: string; leader: { url: string; epoch: number } | null } : undefined;
  };
  const leads = async (url: string) => {
    const current = await role(url);
    return current?.self === 'leader' ? current : undefined;
  };
  const finished = (url: string, id: string) => waitUntil(`execution ${id} to finish`, async () => {
    const res = await request(url).get(`/api/executions/${id}`);
    return res.status === 200 && !['queued', 'running'].includes(res.body.status) ? res.body : undefined;
  }, 60_000);

  it('serves reads, the page and the events of the leader, redirects changes, and a paused leader comes back as a standby', async () => {
    const a = await start('a');
    await waitUntil('a to lead', () => leads(a.url), 30_000, { ignoreErrors: true });
    const b = await start('b');
    expect(await waitUntil('b to stand by', async () => ((await role(b.url))?.self === 'standby' ? true : undefined), 30_000, { ignoreErrors: true })).toBe(true);
    const events: SseEvent[] = [];
    const stopFollowing = followEvents(b.url, events);

    const topology = {
      infrastructure: { cloud_driver: { type: 'static', nodes: [{ name: 'node1', docker: testDockerEndpoint().url }] }, cpu_cores: 2, mem_units: 8, mem_unit_mb: 16 },
      apps: [{ name: APP, tiers: { db: { docker_image: testImage() } } }],
    };
    expect((await request(a.url).put('/api/topology').send(topology)).status).toBe(200);
    const applied = await request(a.url).put('/api/execute').send({ [APP]: { db: { cpu_cores: 1, mem_units: 2 } } });
    expect(applied.status).toBe(200);
    const id = applied.body.execution_id as string;

    // The standby's stream shows the execution as the leader ran it, each event with an id.
    const seen = await waitUntil('the standby to show the execution succeeded', async () => {
      const mine = events.filter((e) => e.event === 'execution' && (e.data as { id: string }).id === id);
      return mine.some((e) => (e.data as { status: string }).status === 'succeeded') ? mine : undefined;
    }, 30_000);
    expect(seen.map((e) => (e.data as { status: string }).status)).toEqual(expect.arrayContaining(['running', 'succeeded']));
    expect(seen.every((e) => /^[0-9a-z]+-\d+$/.test(e.id ?? ''))).toBe(true);
    expect(events.some((e) => e.event === 'action' && (e.data as { execution_id: string }).execution_id === id && (e.data as { status: string }).status === 'succeeded')).toBe(true);
    stopFollowing();
    const seqOf = (id: string | undefined) => Number(id?.split('-')[1]);
    const lastBefore = events.filter((e) => e.id).at(-1)?.id as string;

    // The same bodies for the same resources.
    for (const route of ['/api/executions', `/api/executions/${id}`, '/api/process_definition']) {
      const [fromLeader, fromStandby] = await Promise.all([request(a.url).get(route), request(b.url).get(route)]);
      expect([route, fromStandby.status]).toEqual([route, 200]);
      expect(fromStandby.body).toEqual(fromLeader.body);
    }
    const leaderTopology = (await request(a.url).get('/api/topology')).body;
    expect(await waitUntil('the standby to show the topology', async () => {
      const res = await request(b.url).get('/api/topology');
      return res.status === 200 ? res.body : undefined;
    }, 30_000)).toEqual(leaderTopology);
    // What runs where, as the standby reads it from the engine.
    const allocation = (await request(a.url).get('/api/allocation')).body;
    expect(await waitUntil('the standby to show the allocation', async () => {
      const res = await request(b.url).get('/api/allocation');
      return res.status === 200 && JSON.stringify(res.body) === JSON.stringify(allocation) ? res.body : undefined;
    }, 60_000)).toEqual(allocation);
    const page = await request(b.url).get('/ui');
    expect(page.status).toBe(200);
    expect(page.type).toBe('text/html');
    expect(page.text).toBe((await request(a.url).get('/ui')).text);

    // A change sent to the standby: 307 to the leader; a client that follows it gets the leader's 202.
    const plan = { [APP]: { db: { cpu_cores: 1, mem_units: 3 } } };
    const redirected = await request(b.url).put('/api/execute?wait=false').send(plan);
    expect(redirected.status).toBe(307);
    expect(redirected.headers.location).toBe(`${a.url}/api/execute?wait=false`);
    const followed = await fetch(`${b.url}/api/execute?wait=false`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify(plan) });
    expect(followed.status).toBe(202);
    const second = (await followed.json()) as { execution_id: string };
    expect((await finished(a.url, second.execution_id)).status).toBe('succeeded');

    // a paused past its lease: b takes over; a, resumed, stands by in the same process and serves reads.
    a.child.kill('SIGSTOP');
    const leaderB = await waitUntil('b to lead', () => leads(b.url), 30_000, { ignoreErrors: true });
    expect(leaderB?.leader).toMatchObject({ url: b.url });
    a.child.kill('SIGCONT');
    expect(await waitUntil('a to stand by', async () => ((await role(a.url))?.self === 'standby' ? true : undefined), 30_000, { ignoreErrors: true })).toBe(true);
    expect(a.child.exitCode).toBeNull();
    expect(await role(a.url)).toMatchObject({ self: 'standby', leader: { url: b.url, epoch: leaderB?.leader?.epoch } });
    const [fromB, fromA] = await Promise.all([request(b.url).get(`/api/executions/${second.execution_id}`), request(a.url).get(`/api/executions/${second.execution_id}`)]);
    expect(fromA.status).toBe(200);
    expect(fromA.body).toEqual(fromB.body);
    expect((await request(a.url).put('/api/execute').send(plan)).status).toBe(307);

    // A page connected to a while it stands by sees what b does next; its ids go on from b's.
    const onA: SseEvent[] = [];
    const stopFollowingA = followEvents(a.url, onA);

    // SIGTERM of b hands the lease back to a, which applies a plan as a leader again.
    const stopped = Date.now();
    b.child.kill('SIGTERM');
    await waitUntil('a to lead again', () => leads(a.url), 30_000, { ignoreErrors: true });
    const handover = Date.now() - stopped;
    expect(await b.exited).toBe(0);
    expect(handover).toBeLessThan(10_000);
    const again = await waitUntil('a to take a plan', async () => {
      const res = await request(a.url).put('/api/execute').send({ [APP]: { db: { cpu_cores: 1, mem_units: 2 } } });
      return res.status === 503 ? undefined : res;
    }, 60_000);
    expect([again.status, again.body.status]).toEqual([200, 'succeeded']);
    // Event ids only grow across the takeovers: a client that reconnects to the new leader with an
    // id from before is told to read the state afresh (reset), then gets ids above every one it saw.
    const third = await waitUntil('a\'s stream to show the plan it applied', async () => {
      const mine = onA.filter((e) => e.event === 'execution' && (e.data as { id: string }).id === again.body.execution_id);
      return mine.some((e) => (e.data as { status: string }).status === 'succeeded') ? mine : undefined;
    }, 30_000);
    stopFollowingA();
    expect(third.every((e) => seqOf(e.id) > seqOf(lastBefore))).toBe(true);
    const reconnected: SseEvent[] = [];
    const stopReconnected = followEvents(a.url, reconnected, { 'last-event-id': lastBefore });
    const opening = await waitUntil('the reconnected stream to open', async () => (reconnected.length > 0 ? reconnected[0] : undefined), 10_000);
    stopReconnected();
    expect(opening.event).toBe('reset');
    expect(seqOf(opening.id)).toBeGreaterThan(seqOf(lastBefore));
    a.child.kill('SIGTERM');
    expect(await a.exited).toBe(0);
  }, 240_000);
});

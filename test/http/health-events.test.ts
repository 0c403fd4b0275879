import { promises as fs } from 'fs';
import * as http from 'http';
import * as os from 'os';
import * as path from 'path';
import request from 'supertest';
import { openSqliteState } from '../../src/drivers/sqlite/sqlite-state';
import { Daemon, startDaemon } from '../../src/main';

/** Liveness before the state is restored, readiness with its checks, and the event stream's framing. */
describe('health and events', () => {
  let root: string;
  beforeEach(async () => { root = await fs.mkdtemp(path.join(os.tmpdir(), 'ecoware-health-')); });
  afterEach(async () => { await fs.rm(root, { recursive: true, force: true }); });

  it('is live at once, and ready with a persisted topology whose only node does not answer, naming that node', async () => {
    // A topology accepted earlier whose only node does not answer now: the daemon serves, the node
    // is unreachable and takes no new containers (SPEC §8).
    const state = await openSqliteState(root);
    await state.topologies.save({
      infrastructure: { cloud_driver: { type: 'static', nodes: [{ name: 'gone', docker: 'tcp://127.0.0.1:1' }] }, cpu_cores: 2, mem_units: 4 },
      apps: [{ name: 'app', tiers: { db: { docker_image: 'x' } } }],
    });
    state.close();
    const daemon = await startDaemon({ port: 0, stateDir: root }, { waitReady: false });
    try {
      const api = request(daemon.url);
      expect((await api.get('/livez')).status).toBe(200);
      await daemon.ready;
      const ready = await api.get('/readyz?verbose');
      expect(ready.status).toBe(200);
      expect(ready.body.checks.topology).toEqual({ ok: true, detail: 'in force' });
      expect(ready.body.checks.nodes.detail).toBe('unreachable: gone');
      expect((await api.get('/healthz')).status).toBe(200);
    } finally {
      await daemon.close();
    }
  });

  it('serves with no topology in force when the persisted one no longer reads, without retrying it', async () => {
    const state = await openSqliteState(root);
    // Written before a stricter check: a cron expression node-cron refuses.
    await state.topologies.save({
      infrastructure: { cpu_cores: 2, mem_units: 4, hooks_git_repo: '/nowhere', hooks_refresh: '0 0 31 2 *' },
      apps: [{ name: 'app', tiers: { db: { docker_image: 'x' } } }],
    });
    state.close();
    const daemon = await startDaemon({ port: 0, stateDir: root }, { waitReady: false });
    try {
      await daemon.ready;
      const ready = await request(daemon.url).get('/readyz');
      expect(ready.status).toBe(200);
      expect(ready.body.status).toBe('ok');
      // Refused once, not retried: the daemon waits for a PUT with no topology in force.
      expect((await request(daemon.url).get('/api/topology')).status).toBe(409);
    } finally {
      await daemon.close();
    }
  });

  it('is not ready, and takes no plan, once shutting down', async () => {
    const daemon = await startDaemon({ port: 0, stateDir: root });
    const api = request(daemon.url);
    expect((await api.get('/readyz')).status).toBe(200);
    // Hold a connection open so the server still answers while closing.
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    const get = (p: string, method = 'GET', body?: string) => new Promise<{ status: number; body: string }>((resolve, reject) => {
      const u = new URL(daemon.url);
      const req = http.request({ host: u.hostname, port: u.port, path: p, method, agent, headers: body ? { 'content-type': 'application/json', 'content-length': String(body.length) } : {} }, (res) => {
        let text = '';
        res.on('data', (d) => { text += d; });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
      });
      req.on('error', reject);
      if (body) req.write(body);
      req.end();
    });
    await get('/livez');
    const closing = daemon.close();
    const readyz = await get('/readyz').catch(() => undefined);
    if (readyz) {
      expect(readyz.status).toBe(503);
      expect(JSON.parse(readyz.body).failing).toContain('accepting_plans');
    }
    await closing;
    agent.destroy();
  });

  it('streams bus events as Server-Sent Events, one event per change, to every client', async () => {
    const daemon: Daemon = await startDaemon({ port: 0, stateDir: root });
    try {
      const received: string[] = [];
      // Parts of the daemon subscribe in the background once it is ready (the jobs' queue): count once that has settled.
      let listenersBefore = -1;
      for (let i = 0; i < 50 && listenersBefore !== daemon.events.listenerCount; i++) {
        listenersBefore = daemon.events.listenerCount;
        await new Promise((r) => setTimeout(r, 100));
      }
      const u = new URL(daemon.url);
      const stream = await new Promise<http.IncomingMessage>((resolve) => {
        http.get({ host: u.hostname, port: u.port, path: '/api/events' }, resolve);
      });
      expect(stream.headers['content-type']).toMatch(/^text\/event-stream/);
      stream.setEncoding('utf8');
      stream.on('data', (d: string) => received.push(d));
      await new Promise((r) => setTimeout(r, 50));
      daemon.events.publish({ type: 'execution', id: 'e1', status: 'running', kind: 'plan', at: '2026-01-01T00:00:00.000Z' });
      daemon.events.publish({ type: 'action', execution_id: 'e1', layer: 0, index: 1, status: 'succeeded', description: "delete vm 'vm1'", at: '2026-01-01T00:00:01.000Z' });
      await new Promise((r) => setTimeout(r, 100));
      stream.destroy();
      const text = received.join('');
      const first = /id: ([0-9a-z]+)-(\d+)\nevent: execution\ndata: \{"id":"e1","status":"running","kind":"plan","at":"2026-01-01T00:00:00.000Z"\}\n\n/.exec(text);
      expect(first).not.toBeNull();
      expect(text).toContain(`id: ${first![1]}-${Number(first![2]) + 1}\nevent: action\ndata: {"execution_id":"e1","layer":0,"index":1,"status":"succeeded","description":"delete vm 'vm1'","at":"2026-01-01T00:00:01.000Z"}\n\n`);
      await new Promise((r) => setTimeout(r, 50));
      // A closed stream unsubscribes.
      expect(daemon.events.listenerCount).toBe(listenersBefore);
    } finally {
      await daemon.close();
    }
  });
});

import { execFileSync } from 'child_process';
import { promises as fs } from 'fs';
import * as http from 'http';
import * as https from 'https';
import * as os from 'os';
import * as path from 'path';
import request from 'supertest';
import { Daemon, startDaemon } from '../../src/main';

/**
 * Access control over real HTTP: every route with no, read and admin credentials (Bearer and
 * Basic), the open health routes, refusal to listen beyond loopback without tokens, HTTPS.
 * No topology is loaded, so nothing here needs a Docker engine: access is decided before a route runs.
 */
const ADMIN = 'admin-token-0123456789abcdef';
const READ = 'read-token-0123456789abcdef';

/** [method, path, changes state] for every route of SPEC §5 that exists here. */
const ROUTES: [string, string, boolean][] = [
  ['get', '/api/topology', false],
  ['put', '/api/topology', true],
  ['put', '/api/translate', false],
  ['put', '/api/execute', true],
  ['post', '/api/executor', true],
  ['get', '/api/allocation', false],
  ['get', '/api/inspect', false],
  ['get', '/api/executions', false],
  ['get', '/api/executions/20260101T000000000000-abcdef', false],
  ['post', '/api/executions/20260101T000000000000-abcdef/cancel', true],
  ['get', '/api/process_definition/', false],
  ['post', '/api/process_definition/', true],
  ['get', '/api/process_definition/1/', false],
  ['put', '/api/process_definition/1/', true],
  ['delete', '/api/process_definition/1/', true],
  ['get', '/api/nope', false],
  ['get', '/metrics', false],
];

describe('access control', () => {
  let root: string;
  let daemon: Daemon;
  let api: ReturnType<typeof request>;

  beforeAll(async () => {
    root = await fs.mkdtemp(path.join(os.tmpdir(), 'ecoware-access-'));
    const tokensFile = path.join(root, 'tokens');
    await fs.writeFile(tokensFile, `# operators\nadmin ${ADMIN}\nread ${READ}   # dashboards\n`, { mode: 0o600 });
    daemon = await startDaemon({ port: 0, stateDir: path.join(root, 'state'), tokensFile });
    api = request(daemon.url);
  });
  afterAll(async () => {
    await daemon?.close();
    await fs.rm(root, { recursive: true, force: true });
  });

  const call = (method: string, url: string, auth?: (r: request.Test) => request.Test) => {
    let r = (api as unknown as Record<string, (u: string) => request.Test>)[method](url);
    if (auth) r = auth(r);
    if (method === 'put' || method === 'post') r = r.set('content-type', 'application/json').send('{}');
    return r;
  };

  it.each(ROUTES)('%s %s: 401 without credentials or with an unknown token', async (method, url) => {
    const none = await call(method, url);
    expect(none.status).toBe(401);
    expect(none.body.code).toBe('unauthorized');
    expect(none.headers['www-authenticate']).toMatch(/Bearer realm="ecoware-executor"/);
    const wrong = await call(method, url, (r) => r.set('authorization', `Bearer ${ADMIN}x`));
    expect(wrong.status).toBe(401);
    expect(JSON.stringify(wrong.body)).not.toContain(ADMIN);
  });

  it.each(ROUTES)('%s %s: a read token reads, and gets 403 on a change', async (method, url, changes) => {
    const res = await call(method, url, (r) => r.set('authorization', `Bearer ${READ}`));
    if (changes) {
      expect(res.status).toBe(403);
      expect(res.body.code).toBe('forbidden');
    } else {
      expect([401, 403]).not.toContain(res.status);
    }
  });

  it.each(ROUTES)('%s %s: an admin token passes, as Bearer or as the Basic password', async (method, url) => {
    const bearer = await call(method, url, (r) => r.set('authorization', `Bearer ${ADMIN}`));
    expect([401, 403]).not.toContain(bearer.status);
    const basic = await call(method, url, (r) => r.auth('planner', ADMIN));
    expect(basic.status).toBe(bearer.status);
  });

  it('keeps /livez, /readyz and /healthz open', async () => {
    expect((await api.get('/livez')).status).toBe(200);
    expect((await api.get('/healthz')).status).toBe(200);
    const ready = await api.get('/readyz?verbose');
    expect(ready.status).toBe(200);
    expect(ready.body.checks).toMatchObject({ database: { ok: true }, executions_recovered: { ok: true }, accepting_plans: { ok: true } });
  });

  it('streams events only to a token holder', async () => {
    expect((await api.get('/api/events')).status).toBe(401);
  });

  it('refuses to listen beyond loopback without a tokens file, unless told to', async () => {
    const stateDir = path.join(root, 'open');
    await expect(startDaemon({ port: 0, host: '0.0.0.0', stateDir })).rejects.toThrow(/refusing to listen on 0.0.0.0 without --tokens-file/);
    const open = await startDaemon({ port: 0, host: '0.0.0.0', stateDir, insecureNoAuth: true });
    try {
      expect((await request(open.url.replace('0.0.0.0', '127.0.0.1')).get('/api/executions')).status).toBe(200);
    } finally {
      await open.close();
    }
  });

  it('refuses a tokens file it cannot use, naming the line', async () => {
    const bad = path.join(root, 'bad-tokens');
    await fs.writeFile(bad, `admin ${ADMIN}\nsuperuser ${READ}\n`);
    await expect(startDaemon({ port: 0, stateDir: path.join(root, 'bad'), tokensFile: bad })).rejects.toThrow(/bad-tokens:2: expected '<admin\|read> <token>'/);
    await fs.writeFile(bad, 'read short\n');
    await expect(startDaemon({ port: 0, stateDir: path.join(root, 'bad'), tokensFile: bad })).rejects.toThrow(/at least 16 characters/);
  });

  it('serves HTTPS from a certificate and key', async () => {
    const cert = path.join(root, 'cert.pem');
    const key = path.join(root, 'key.pem');
    execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-days', '1', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1'], { stdio: 'ignore' });
    const secure = await startDaemon({ port: 0, stateDir: path.join(root, 'tls'), tlsCert: cert, tlsKey: key, tokensFile: path.join(root, 'tokens') });
    try {
      expect(secure.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
      const ca = await fs.readFile(cert);
      const get = (p: string, headers: Record<string, string> = {}) => new Promise<{ status: number; body: string }>((resolve, reject) => {
        https.get(`${secure.url}${p}`, { ca, headers }, (res) => {
          let body = '';
          res.on('data', (d) => { body += d; });
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
        }).on('error', reject);
      });
      expect((await get('/livez')).status).toBe(200);
      expect((await get('/api/executions')).status).toBe(401);
      const listed = await get('/api/executions', { authorization: `Bearer ${READ}` });
      expect(listed.status).toBe(200);
      expect(JSON.parse(listed.body).meta.total_count).toBe(0);
    } finally {
      await secure.close();
    }
  });
});

/**
 * DNS rebinding: a page whose host name resolves to 127.0.0.1 is same-origin with an open daemon,
 * and its requests carry that name in Host. Sent over real HTTP with the Host header a browser sends.
 */
describe('the Host a request names', () => {
  let root: string;
  beforeAll(async () => { root = await fs.mkdtemp(path.join(os.tmpdir(), 'ecoware-host-')); });
  afterAll(async () => { await fs.rm(root, { recursive: true, force: true }); });

  const send = (url: string, method: string, route: string, host: string, headers: Record<string, string> = {}) =>
    new Promise<{ status: number; body: string }>((resolve, reject) => {
      const u = new URL(url);
      const body = method === 'GET' ? undefined : '{"pwitter-web":{"cpu_cores":1,"mem_units":1}}';
      const req = http.request({
        host: u.hostname, port: u.port, path: route, method,
        headers: { host, ...headers, ...(body ? { 'content-type': 'application/json', 'content-length': String(body.length) } : {}) },
      }, (res) => {
        let text = '';
        res.on('data', (d) => { text += d; });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
      });
      req.on('error', reject);
      req.end(body);
    });

  it('an open daemon answers loopback names and --allowed-host names only; a foreign Host changes nothing', async () => {
    const open = await startDaemon({ port: 0, stateDir: path.join(root, 'open'), allowedHosts: ['ecoware.internal'] });
    try {
      const port = new URL(open.url).port;
      for (const route of ['/api/topology', '/api/executions', '/livez']) {
        const refused = await send(open.url, 'GET', route, `attacker.example:${port}`);
        expect(refused.status).toBe(421);
        expect(JSON.parse(refused.body)).toMatchObject({ code: 'misdirected', error: expect.stringContaining("Host 'attacker.example") });
      }
      expect((await send(open.url, 'POST', '/api/executor', `attacker.example:${port}`)).status).toBe(421);
      expect((await send(open.url, 'GET', '/api/executions', `localhost:${port}`)).status).toBe(200);
      expect((await send(open.url, 'GET', '/api/executions', `127.0.0.1:${port}`)).status).toBe(200);
      expect((await send(open.url, 'GET', '/api/executions', `ecoware.internal:${port}`)).status).toBe(200);
      expect(JSON.parse((await send(open.url, 'GET', '/api/executions', `localhost:${port}`)).body)).toMatchObject({ meta: { total_count: 0 } });
    } finally {
      await open.close();
    }
  });

  it('with a tokens file the tokens decide, whatever the Host', async () => {
    const tokensFile = path.join(root, 'tokens');
    await fs.writeFile(tokensFile, `admin ${ADMIN}\n`, { mode: 0o600 });
    const guarded = await startDaemon({ port: 0, stateDir: path.join(root, 'guarded'), tokensFile });
    try {
      expect((await send(guarded.url, 'GET', '/api/executions', 'attacker.example')).status).toBe(401);
      expect((await send(guarded.url, 'GET', '/api/executions', 'ecoware.example.com', { authorization: `Bearer ${ADMIN}` })).status).toBe(200);
    } finally {
      await guarded.close();
    }
  });
});

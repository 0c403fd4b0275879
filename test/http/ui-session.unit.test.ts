import * as path from 'path';
import * as os from 'os';
import request from 'supertest';
import { AccessControl } from '../../src/http/access';
import { buildApp } from '../../src/http/app';
import { createUiRouter } from '../../src/http/ui-routes';
import { SESSION_COOKIE } from '../../src/http/ui-session';
import express from 'express';
import { fakeDaemon } from '../support/fake-daemon';
import { shopTopology } from '../support/topologies';

const ADMIN = 'admin-token-0123456789abcdef';
const READ = 'read-token-0123456789abcdef';

/** The page's sessions (SPEC §11) over fake engines: the cookie, its flags, its role, the page's header. */
describe('page sessions', () => {
  let daemon: Awaited<ReturnType<typeof fakeDaemon>>;
  let api: ReturnType<typeof request>;
  beforeEach(async () => {
    daemon = await fakeDaemon({ elastic: false });
    const { knowledge, services, queue, executions, bus } = daemon;
    const access = AccessControl.fromText(`admin ${ADMIN}\nread ${READ}\n`);
    api = request(buildApp({ knowledge, services, queue, executions, events: bus, access }));
    await api.put('/api/topology').set('authorization', `Bearer ${ADMIN}`).send(shopTopology());
  });
  afterEach(async () => { await daemon.close(); });

  const signIn = async (token: string) => {
    const res = await api.post('/ui/session').send({ token });
    expect(res.status).toBe(200);
    const setCookie = ([] as string[]).concat(res.headers['set-cookie'] ?? []);
    const cookie = setCookie.find((c) => c.startsWith(`${SESSION_COOKIE}=`))!;
    return { res, cookie, value: cookie.split(';')[0] };
  };

  it('asks for a token, and answers an HttpOnly, SameSite=Strict cookie for 12 hours', async () => {
    expect((await api.get('/ui/session')).body).toEqual({ auth: 'tokens', role: null });
    expect((await api.post('/ui/session').send({ token: 'wrong-token-0123456789' })).status).toBe(401);
    expect((await api.post('/ui/session').send({})).status).toBe(401);
    const { res, cookie, value } = await signIn(ADMIN);
    expect(res.body).toMatchObject({ auth: 'tokens', role: 'admin' });
    expect(cookie).toMatch(/; HttpOnly/);
    expect(cookie).toMatch(/; SameSite=Strict/);
    expect(cookie).toMatch(/; Path=\//);
    expect(cookie).not.toMatch(/; Secure/); // plain HTTP here; under TLS req.secure adds it
    const expires = Date.parse(/Expires=([^;]+)/.exec(cookie)![1]);
    expect(expires - Date.now()).toBeGreaterThan(11.9 * 3600_000);
    expect(expires - Date.now()).toBeLessThanOrEqual(12 * 3600_000);
    expect((await api.get('/ui/session').set('cookie', value)).body).toEqual({ auth: 'tokens', role: 'admin' });
  });

  it('lets the cookie stand for the token, changes only with the page\'s header', async () => {
    const { value } = await signIn(ADMIN);
    expect((await api.get('/api/allocation')).status).toBe(401);
    expect((await api.get('/api/allocation').set('cookie', value)).status).toBe(200);
    const plan = { shop: { db: { cpu_cores: 1, mem_units: 1 } } };
    const bare = await api.put('/api/execute').set('cookie', value).send(plan);
    expect(bare.status).toBe(403);
    expect(bare.body.error).toContain('x-requested-with');
    // A preview changes nothing: no header needed.
    expect((await api.put('/api/translate').set('cookie', value).send(plan)).status).toBe(200);
    expect((await api.put('/api/execute').set('cookie', value).set('x-requested-with', 'ecoware-ui').send(plan)).status).toBe(200);
    // A wrong Authorization header is not rescued by a good cookie.
    expect((await api.get('/api/allocation').set('cookie', value).set('authorization', 'Bearer nope-nope-nope-nope')).status).toBe(401);
    // Signed out, the cookie opens nothing.
    const out = await api.delete('/ui/session').set('cookie', value);
    expect(out.status).toBe(204);
    expect(([] as string[]).concat(out.headers['set-cookie'] ?? []).join()).toMatch(new RegExp(`${SESSION_COOKIE}=;`));
    expect((await api.get('/api/allocation').set('cookie', value)).status).toBe(401);
  });

  it('refuses a read session every change, with the header too', async () => {
    const { value } = await signIn(READ);
    expect((await api.get('/api/executions').set('cookie', value)).status).toBe(200);
    const res = await api.put('/api/execute').set('cookie', value).set('x-requested-with', 'ecoware-ui').send({ shop: { db: { cpu_cores: 1, mem_units: 1 } } });
    expect(res.status).toBe(403);
    expect(res.body.code).toBe('forbidden');
  });

  it('offers a page\'s script no Basic challenge, which would open the browser\'s own dialog', async () => {
    expect((await api.get('/api/allocation')).headers['www-authenticate']).toContain('Basic');
    expect((await api.get('/api/allocation').set('sec-fetch-mode', 'cors')).headers['www-authenticate']).toBe('Bearer realm="ecoware-executor"');
  });
});

describe('the page without a tokens file, and unbuilt', () => {
  it('needs no session, refuses to start one, and says how to build the page', async () => {
    const app = express().use(createUiRouter({ dir: path.join(os.tmpdir(), 'no-such-ui-dir') }));
    expect((await request(app).get('/ui/session')).body).toEqual({ auth: 'none', role: 'admin' });
    expect((await request(app).post('/ui/session').send({ token: 'x' })).status).toBe(409);
    const page = await request(app).get('/ui');
    expect(page.status).toBe(503);
    expect(page.text).toContain('npm run build');
    expect(page.headers['content-security-policy']).toContain("default-src 'self'");
  });
});

import { promises as fs } from 'fs';
import * as http from 'http';
import * as os from 'os';
import * as path from 'path';
import { gzipSync } from 'zlib';
import { Daemon, startDaemon } from '../../src/main';

/**
 * Malformed requests of every kind get a 4xx `{error, code}` and change nothing. Sent with a raw
 * HTTP client so that bytes, headers and paths reach the daemon exactly as written. The topology
 * checks refused here all happen before any engine is contacted, so no Docker engine is needed.
 */
interface Answer { status: number; body: { error?: unknown; code?: unknown } & Record<string, unknown> }

function send(base: string, method: string, rawPath: string, body?: Buffer | string, headers: Record<string, string> = {}): Promise<Answer> {
  const url = new URL(base);
  return new Promise((resolve, reject) => {
    const req = http.request({ host: url.hostname, port: url.port, method, path: rawPath, headers: { ...(body !== undefined ? { 'content-length': String(Buffer.byteLength(body)) } : {}), ...headers } }, (res) => {
      let text = '';
      res.on('data', (d) => { text += d; });
      res.on('end', () => {
        let parsed: Answer['body'] = {};
        try { parsed = JSON.parse(text); } catch { parsed = { raw: text }; }
        resolve({ status: res.statusCode ?? 0, body: parsed });
      });
    });
    req.on('error', reject);
    if (body !== undefined) req.write(body);
    req.end();
  });
}

const JSON_TYPE = { 'content-type': 'application/json' };
const topology = (infra: Record<string, unknown> = {}, tiers: Record<string, unknown> = { db: { docker_image: 'x' } }) => JSON.stringify({
  infrastructure: { cloud_driver: { type: 'static', nodes: [{ name: 'n1', docker: 'tcp://127.0.0.1:1' }] }, cpu_cores: 2, mem_units: 4, ...infra },
  apps: [{ name: 'app', tiers }],
});
let deep = '{"x":1}';
for (let i = 0; i < 10_000; i++) deep = `{"a":${deep}}`;

const CORPUS: [string, string, string, Buffer | string | undefined, Record<string, string>, number][] = [
  ['bad %-encoding in an execution id', 'GET', '/api/executions/%ZZ', undefined, {}, 400],
  ['bad %-encoding in a process definition id', 'PUT', '/api/process_definition/%ZZ/', '{"definition":{"exec":"/bin/true"}}', JSON_TYPE, 400],
  ['an execution id of 300 characters', 'GET', `/api/executions/${'a'.repeat(300)}`, undefined, {}, 404],
  ['an execution id of 5,000 characters', 'GET', `/api/executions/${'a'.repeat(5000)}`, undefined, {}, 404],
  ['a process definition id of 5,000 characters', 'PUT', `/api/process_definition/${'a'.repeat(5000)}/`, '{"definition":{"exec":"/bin/true"}}', JSON_TYPE, 400],
  ['charset=latin1', 'POST', '/api/process_definition/', '{"definition":{"exec":"/bin/true"}}', { 'content-type': 'application/json; charset=latin1' }, 415],
  ['charset=bogus', 'POST', '/api/process_definition/', '{"definition":{"exec":"/bin/true"}}', { 'content-type': 'application/json; charset=bogus' }, 415],
  ['Content-Encoding: x-unknown', 'POST', '/api/process_definition/', '{"definition":{"exec":"/bin/true"}}', { ...JSON_TYPE, 'content-encoding': 'x-unknown' }, 415],
  ['gzip declared, plain body', 'POST', '/api/process_definition/', '{"definition":{"exec":"/bin/true"}}', { ...JSON_TYPE, 'content-encoding': 'gzip' }, 400],
  ['deflate declared, plain body', 'POST', '/api/process_definition/', '{"definition":{"exec":"/bin/true"}}', { ...JSON_TYPE, 'content-encoding': 'deflate' }, 400],
  ['br declared, plain body', 'POST', '/api/process_definition/', '{"definition":{"exec":"/bin/true"}}', { ...JSON_TYPE, 'content-encoding': 'br' }, 400],
  ['a cross-site simple request (text/plain, foreign Origin)', 'POST', '/api/executor', '{"app_db":{"cpu_cores":1,"mem_units":1}}', { 'content-type': 'text/plain', origin: 'https://evil.example' }, 415],
  ['a form body', 'PUT', '/api/topology', 'a=b', { 'content-type': 'application/x-www-form-urlencoded' }, 415],
  ['a body without a content type', 'PUT', '/api/topology', topology(), {}, 415],
  ['an empty body', 'PUT', '/api/topology', '', JSON_TYPE, 400],
  ['an empty body for a process definition', 'POST', '/api/process_definition/', '', JSON_TYPE, 400],
  ['a valid topology carrying an unknown field nested 10,000 deep', 'PUT', '/api/topology', topology().replace(/}$/, `,"extra":${deep}}`), JSON_TYPE, 400],
  ['a valid topology carrying a number JSON cannot carry back', 'PUT', '/api/topology', topology().replace(/}$/, ',"note":1e400}'), JSON_TYPE, 400],
  ['invalid UTF-8 in a process definition', 'POST', '/api/process_definition/', Buffer.concat([Buffer.from('{"definition":{"exec":"/bin/echo '), Buffer.from([0xc3, 0x28, 0xff]), Buffer.from('"}}')]), JSON_TYPE, 400],
  ['hook_timeout_s: 3e6', 'PUT', '/api/topology', topology({ hook_timeout_s: 3e6 }), JSON_TYPE, 400],
  ['mem_unit_mb: 1e308', 'PUT', '/api/topology', topology({ mem_unit_mb: 1e308 }), JSON_TYPE, 400],
  ['infrastructure.mem_units: 1e308', 'PUT', '/api/topology', topology({ mem_units: 1e308 }), JSON_TYPE, 400],
  ['a port 999.1.1.1:80:80', 'PUT', '/api/topology', topology({}, { db: { docker_image: 'x', ports: ['999.1.1.1:80:80'] } }), JSON_TYPE, 400],
  ['a docker_image no engine accepts (../../x)', 'PUT', '/api/topology', topology({}, { db: { docker_image: '../../x' } }), JSON_TYPE, 400],
  ['a docker_image with a space', 'PUT', '/api/topology', topology({}, { db: { docker_image: 'busy box' } }), JSON_TYPE, 400],
  ['a docker_image with a tag of 300 characters', 'PUT', '/api/topology', topology({}, { db: { docker_image: `x:${'y'.repeat(300)}` } }), JSON_TYPE, 400],
  ['a tier name of 5,000 characters', 'PUT', '/api/topology', topology({}, { ['t'.repeat(5000)]: { docker_image: 'x' } }), JSON_TYPE, 400],
  ['malformed JSON', 'PUT', '/api/topology', '{"x": ', JSON_TYPE, 400],
  ['an unknown status filter', 'GET', '/api/executions?status=weird', undefined, {}, 400],
  ['a since that is no time', 'GET', '/api/executions?since=yesterday', undefined, {}, 400],
  ['a before that is no id', 'GET', `/api/executions?before=${'%27'.repeat(3)}`, undefined, {}, 400],
];

/**
 * The API's routes that take a body or name a record, the POD and registry ones too. (Tycho's
 * /system routes answer every error with HTTP 200 and their own envelope, as Tycho's client expects:
 * test/http/tycho-shapes.unit.test.ts.)
 */
const ROUTES: [string, string][] = [
  ['PUT', '/api/topology'], ['PUT', '/api/translate'], ['PUT', '/api/execute'], ['POST', '/api/executor'],
  ['GET', '/api/executions/:id'], ['POST', '/api/executions/:id/cancel'], ['POST', '/api/executions/:id/rollback'],
  ['GET', '/api/jobs/:id'], ['GET', '/api/jobs/:id/logs'], ['POST', '/api/jobs'], ['POST', '/api/jobs/:id/cancel'],
  ['GET', '/api/job-templates/:name'], ['PUT', '/api/job-templates/:name'], ['DELETE', '/api/job-templates/:name'],
  ['GET', '/api/nodes/:name'], ['POST', '/api/nodes/:name/cordon'], ['POST', '/api/nodes/:name/drain'], ['POST', '/api/nodes/:name/uncordon'],
  ['GET', '/api/nodes/:name/volumes'], ['POST', '/api/nodes/:name/volumes'], ['DELETE', '/api/nodes/:name/volumes/:volume'],
  ['POST', '/api/systems'], ['GET', '/api/systems/:sid'], ['DELETE', '/api/systems/:sid'],
  ['GET', '/POD/'], ['POST', '/POD/'], ['POST', '/no-such-route'],
  ['POST', '/api/process_definition/'], ['GET', '/api/process_definition/:id/'], ['PUT', '/api/process_definition/:id/'], ['DELETE', '/api/process_definition/:id/'],
];
const WRONG_BODIES = ['null', '1', '"x"', '[]', '[1,2]', '{"a":1}', '{"__proto__":{"polluted":1}}', '{"constructor":{"prototype":{"polluted":1}}}',
  '{"app":{"db":{"cpu_cores":-1,"mem_units":1e308}}}', '{"definition":null}', '{"template":1,"input":{"a":[]}}', '{"compose":"services:\\n  a:\\n    image: 1\\n"}',
  '{"name":"../../etc","size_mb":"x"}', `{"a":"${'x'.repeat(100_000)}"}`];
const ODD_IDS = ['x1', '..%2F..', '%00', 'a'.repeat(300), '-1'];
const ODD_QUERIES = ['', '?wait=maybe&timeout=-5', '?action=getExecutionStatus&executionId=%00', '?action=newExecution&name=x&input=1'];

describe('bounds at the door', () => {
  let root: string;
  let daemon: Daemon;

  beforeAll(async () => {
    root = await fs.mkdtemp(path.join(os.tmpdir(), 'ecoware-bounds-'));
    daemon = await startDaemon({ port: 0, stateDir: root });
  });
  afterAll(async () => {
    await daemon?.close();
    await fs.rm(root, { recursive: true, force: true });
  });

  it.each(CORPUS)('%s: answered with a 4xx {error, code}', async (_name, method, rawPath, body, headers, status) => {
    const res = await send(daemon.url, method, rawPath, body, headers);
    expect(res.status).toBe(status);
    expect(typeof res.body.error).toBe('string');
    expect(typeof res.body.code).toBe('string');
    expect(String(res.body.error).length).toBeLessThan(500);
  });

  it.each([
    ['PUT', '/api/execute'], ['POST', '/api/executor'], ['PUT', '/api/translate'], ['PUT', '/api/topology'], ['POST', '/api/process_definition/'],
  ])('an empty chunked body to %s %s is no body: 400, not an empty plan', async (method, rawPath) => {
    const res = await send(daemon.url, method, rawPath, undefined, { ...JSON_TYPE, 'transfer-encoding': 'chunked' });
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({ code: 'invalid', error: expect.stringMatching(/a JSON body is required|expected a JSON object/) });
  });

  it('a body sent as application/<something>+json is read as JSON, not taken for no body', async () => {
    const res = await send(daemon.url, 'PUT', '/api/process_definition/vendored/', '{"definition":{"exec":"/bin/true"}}', { 'content-type': 'application/vnd.ecoware+json' });
    expect(res.status).toBe(201);
    const bad = await send(daemon.url, 'PUT', '/api/process_definition/vendored/', '{"definition":', { 'content-type': 'application/vnd.ecoware+json' });
    expect(bad).toMatchObject({ status: 400, body: { code: 'invalid_json' } });
    expect((await send(daemon.url, 'DELETE', '/api/process_definition/vendored/')).status).toBe(204);
  });

  it('a gzip body sent as such is read', async () => {
    const res = await send(daemon.url, 'PUT', '/api/process_definition/zipped/', gzipSync('{"definition":{"exec":"/bin/true"}}'), { ...JSON_TYPE, 'content-encoding': 'gzip' });
    expect(res.status).toBe(201);
    expect((await send(daemon.url, 'DELETE', '/api/process_definition/zipped/')).status).toBe(204);
  });

  it('every route, sent bodies, ids and queries of the wrong shape, answers each with a 4xx {error, code}', async () => {
    const failures: string[] = [];
    for (const [method, route] of ROUTES) {
      for (const id of route.includes(':') ? ODD_IDS : ['']) {
        const rawPath = route.replace(/:[a-z]+/g, id);
        for (const query of ODD_QUERIES) {
          for (const body of method === 'GET' ? [undefined] : WRONG_BODIES) {
            const res = await send(daemon.url, method, rawPath + query, body, body === undefined ? {} : JSON_TYPE);
            // POD's answers keep its own shape, `{error}` alone (SPEC §10).
            const told = typeof res.body.error === 'string' && (typeof res.body.code === 'string' || rawPath.startsWith('/POD/'));
            if (res.status < 400 || res.status >= 500 || !told) failures.push(`${method} ${rawPath}${query} ${String(body).slice(0, 40)} -> ${res.status} ${JSON.stringify(res.body).slice(0, 120)}`);
          }
        }
      }
    }
    expect(failures).toEqual([]);
  });

  it('nothing changed: no topology, no execution, no process definition, and the daemon still answers', async () => {
    expect((await send(daemon.url, 'GET', '/api/topology')).status).toBe(409);
    expect((await send(daemon.url, 'GET', '/api/executions')).body).toMatchObject({ meta: { total_count: 0 } });
    expect((await send(daemon.url, 'GET', '/api/process_definition/')).body).toMatchObject({ meta: { total_count: 0 } });
    expect((await send(daemon.url, 'GET', '/readyz')).status).toBe(200);
  });
});

import { promises as fs } from 'fs';
import * as os from 'os';
import * as path from 'path';
import request from 'supertest';
import { Daemon, startDaemon } from '../../src/main';
import { Command } from 'commander';
import { register } from '../../src/cli/systems-command';
import { engineClient, startEngine, TestEngine } from '../support/engines';
import { testImage } from '../support/docker';
import { storedSystems } from '../support/state-db';

/**
 * Systems from compose files on a static pool of two real engines (each a dockerd on its own
 * 127.0.0.N, 2 cores): start, ports, readiness, refusals, resize in place, restarts, delete, and
 * the Tycho routes. Assertions ask the engines directly.
 */
const RANGE = { first: 24000, last: 24999 };

const SHOP = `
name: shop
services:
  db:
    image: ${testImage()}
    command: ["sh", "-c", "sleep 2; echo kept > /data/file; : > /tmp/ready; exec sleep 86400"]
    healthcheck: {test: ["CMD-SHELL", "[ -f /tmp/ready ]"], interval: 500ms, retries: 60}
    volumes: ["dbdata:/data"]
    deploy: {resources: {limits: {cpus: "1", memory: 64M}}}
  web:
    image: "\${IMAGE:-none}"
    command: ["sh", "-c", "echo hello > /tmp/index.html; exec httpd -f -p 8080 -h /tmp"]
    environment: {LITERAL: "$$HOME"}
    ports: ["8080"]
    depends_on: {db: {condition: service_healthy}}
    deploy: {resources: {limits: {cpus: "0.5", memory: 100M}}}
volumes: {dbdata: {}}
`;

/** Nine levels of nine aliases each: a few hundred bytes of YAML that expand to 9^9 strings. */
const ALIAS_BOMB = ['a: &a [x, x, x, x, x, x, x, x, x]', ...'bcdefghi'.split('').map((l, i) => {
  const prev = 'abcdefgh'[i];
  return `${l}: &${l} [${Array(9).fill(`*${prev}`).join(', ')}]`;
}), 'services: {web: {image: x}}'].join('\n');

describe('systems from compose files on two engines', () => {
  let engines: TestEngine[];
  let daemon: Daemon;
  let api: ReturnType<typeof request>;
  let stateDir: string;
  const nodes = () => engines.map((e, i) => ({ name: `n${i + 1}`, docker: e.endpoint, address: e.address }));
  const engineOf = (vm: string) => engines[Number(vm.slice(1)) - 1];

  async function everything() {
    const per = await Promise.all(engines.map(async (e) => {
      const d = engineClient(e);
      const [containers, networks, volumes] = await Promise.all([d.listContainers({ all: true }), d.listNetworks(), d.listVolumes()]);
      return {
        containers: containers.map((c) => c.Names[0]).sort(),
        networks: networks.map((n) => n.Name).filter((n) => !['bridge', 'host', 'none'].includes(n)).sort(),
        volumes: (volumes.Volumes ?? []).map((v) => v.Name).sort(),
      };
    }));
    return per;
  }

  async function start(env = 'IMAGE=' + testImage(), compose = SHOP, query = '') {
    return api.post(`/api/systems${query}`).send({ name: 'shop', namespace: 'team-a', env, compose });
  }

  async function fetchText(address: string, port: number): Promise<string> {
    let last: unknown;
    for (let i = 0; i < 20; i++) {
      try {
        const r = await fetch(`http://${address}:${port}/`);
        return await r.text();
      } catch (e) {
        last = e;
        await new Promise((r) => setTimeout(r, 100));
      }
    }
    throw last;
  }

  beforeAll(async () => {
    engines = [await startEngine(3), await startEngine(4)];
    stateDir = await fs.mkdtemp(path.join(os.tmpdir(), 'ecoware-systems-'));
    daemon = await startDaemon({ port: 0, stateDir, hostPorts: RANGE, systemReadyTimeoutMs: 60_000 });
    api = request(daemon.url);
    const res = await api.put('/api/topology').send({
      infrastructure: { cloud_driver: { type: 'static', nodes: nodes() }, cpu_cores: 2, mem_units: 16, mem_unit_mb: 64 },
      apps: [],
    });
    expect(res.status).toBe(200);
  }, 180_000);

  afterAll(async () => {
    await daemon?.close();
    await Promise.all((engines ?? []).map((e) => e.stop()));
    await fs.rm(stateDir, { recursive: true, force: true });
  });

  let first: { sid: string; app: string; webPort: number; webVm: string; webId: string };

  it('starts a system whose web answers on the reported port, created only once db was healthy', async () => {
    const res = await start();
    expect(res.status).toBe(201);
    const { sid, name, namespace, containers, warnings } = res.body.result;
    expect(sid).toMatch(/^[0-9a-f]{32}$/);
    expect(res.headers.location).toBe(`/api/systems/${sid}`);
    expect(name).toBe(`shop-${sid}`);
    expect(namespace).toBe('team-a');
    expect(warnings).toEqual(expect.arrayContaining([expect.stringContaining('services.web.deploy.resources.limits.cpus: 0.5 rounded up to 1')]));
    const web = containers.web;
    expect(web.port).toBeGreaterThanOrEqual(RANGE.first);
    expect(web.port).toBeLessThanOrEqual(RANGE.last);
    expect(web.ports).toEqual([expect.objectContaining({ container_port: 8080, host_port: web.port, protocol: 'tcp' })]);
    const { vm, address } = web.ports[0];
    expect(address).toBe(engineOf(vm).address);
    expect((await fetchText(address, web.port)).trim()).toBe('hello');

    const status = (await api.get(`/api/systems/${sid}`)).body;
    expect(status.ready).toBe(true);
    expect(status.services.db).toMatchObject({ state: 'running', health: 'healthy', ready: true });
    const dbVm = status.services.db.containers[0].vm;
    const webInfo = await engineClient(engineOf(vm)).getContainer(status.services.web.containers[0].id).inspect();
    const dbInfo = await engineClient(engineOf(dbVm)).getContainer(status.services.db.containers[0].id).inspect();
    const firstHealthy = dbInfo.State.Health!.Log.find((l: { ExitCode: number }) => l.ExitCode === 0)!;
    expect(Date.parse(webInfo.Created)).toBeGreaterThanOrEqual(Date.parse(firstHealthy.End));
    expect(webInfo.Config.Env).toContain('LITERAL=$HOME');
    expect(webInfo.Config.Image).toBe(testImage());
    // db sits on a VM of its own or beside web: either way web finds it by name.
    const hosts = webInfo.HostConfig.ExtraHosts ?? [];
    if (dbVm !== vm) expect(hosts).toContain(`db:${engineOf(dbVm).address}`);
    else {
      expect(webInfo.NetworkSettings.Networks[`shop-${sid}`].Aliases).toContain('web');
      expect(hosts.some((h: string) => h.startsWith('db:'))).toBe(false);
    }
    // Whichever VM db is on, web's environment says how to reach it from there.
    const env = Object.fromEntries(webInfo.Config.Env.map((e: string) => e.split(/=(.*)/s).slice(0, 2)));
    expect(env.ECOWARE_SERVICE_DB_HOST).toBe(dbVm === vm ? 'db' : engineOf(dbVm).address);
    expect((await engineClient(engineOf(dbVm)).getVolume(`shop-${sid}_dbdata`).inspect()).Labels['io.ecoware.system']).toBe(sid);

    const execution = (await api.get(`/api/executions/${res.body.result.execution_id}`)).body;
    expect(execution).toMatchObject({ status: 'succeeded', kind: 'system' });
    // One execution created both services, db's layer first.
    expect(execution.actions ?? execution.steps.map((l: { description: string }[]) => l.map((r) => r.description)))
      .toEqual([[expect.stringContaining(`create container 'shop-${sid}_db'`)], [expect.stringContaining(`create container 'shop-${sid}_web'`)]]);
    first = { sid, app: name, webPort: web.port, webVm: vm, webId: status.services.web.containers[0].id };
  });

  it('gives a second instance of the same file its own sid, volume and reachable port', async () => {
    const res = await start();
    expect(res.status).toBe(201);
    const { sid, containers } = res.body.result;
    expect(sid).not.toBe(first.sid);
    const web = containers.web.ports[0];
    expect(`${web.address}:${web.host_port}`).not.toBe(`${engineOf(first.webVm).address}:${first.webPort}`);
    expect((await fetchText(web.address, web.host_port)).trim()).toBe('hello');
    expect((await fetchText(engineOf(first.webVm).address, first.webPort)).trim()).toBe('hello');
    const list = (await api.get('/api/systems?namespace=team-a')).body;
    expect(list.map((s: { sid: string }) => s.sid).sort()).toEqual([first.sid, sid].sort());
    expect((await api.get('/api/systems?namespace=other')).body).toEqual([]);
    const del = await api.delete(`/api/systems/${sid}?volumes=true`);
    expect(del.status).toBe(200);
    const left = await everything();
    for (const node of left) {
      expect(node.containers.some((c) => c.includes(sid))).toBe(false);
      expect(node.networks.some((n) => n.includes(sid))).toBe(false);
      expect(node.volumes.some((v) => v.includes(sid))).toBe(false);
    }
  });

  it.each([
    ['unknown key', { services: { web: { image: 'x', bogus: 1 } } }, 'services.web.bogus'],
    ['missing image', { services: { web: { command: 'x' } } }, 'services.web.image'],
    ['depends_on to nothing', { services: { web: { image: 'x', depends_on: ['nope'] } } }, 'services.web.depends_on.nope'],
    ['a cycle', { services: { a: { image: 'x', depends_on: ['b'] }, b: { image: 'x', depends_on: ['a'] } } }, 'services.a.depends_on'],
    ['${X:?} unset', 'services:\n  web:\n    image: "x:${REQ:?must be set}"\n', 'services.web.image'],
    ['network_mode: host', { services: { web: { image: 'x', network_mode: 'host' } } }, 'services.web.network_mode'],
    ['privileged', { services: { web: { image: 'x', privileged: true } } }, 'services.web.privileged'],
    ['a host path', { services: { web: { image: 'x', volumes: ['/etc:/etc2'] } } }, 'services.web.volumes[0]'],
    ['YAML aliases that expand a billion times', ALIAS_BOMB, 'compose'],
    ['an image no engine accepts', { services: { web: { image: '../../x' } } }, 'services.web.image'],
    ['a healthcheck interval the engine cannot hold', { services: { web: { image: 'x', healthcheck: { test: ['CMD', 'true'], interval: '999999999h' } } } }, 'services.web.healthcheck.interval'],
  ])('refuses %s with 400 naming the path and leaves the engines untouched', async (_what, compose, field) => {
    const before = await everything();
    const topology = (await api.get('/api/topology')).body;
    const res = await api.post('/api/systems').send({ name: 'bad', compose });
    expect(res.status).toBe(400);
    expect(res.body.field).toBe(field);
    expect(res.body.error).toContain(field);
    if (_what.includes('?')) expect(res.body.error).toContain('must be set');
    expect(await everything()).toEqual(before);
    expect((await api.get('/api/topology')).body).toEqual(topology);
  });

  it('refuses a system larger than the pool with 422 and creates nothing', async () => {
    const before = await everything();
    const big = { services: { huge: { image: testImage(), command: ['sleep', '60'], deploy: { resources: { limits: { cpus: '2' } }, replicas: 3 } } } };
    const res = await api.post('/api/systems').send({ name: 'big', compose: big });
    expect(res.status).toBe(422);
    expect(res.body.error).toMatch(/No solution found/);
    expect(await everything()).toEqual(before);
    expect((await api.get('/api/systems')).body.map((s: { name: string }) => s.name)).not.toContainEqual(expect.stringMatching(/^big-/));
    expect((await api.get('/api/topology')).body.apps.map((a: { name: string }) => a.name)).toEqual([first.app]);
  });

  it('takes back everything a failed start created: containers, network, volume, app', async () => {
    const before = await everything();
    const topology = (await api.get('/api/topology')).body;
    // db starts and gets its volume and network; web's image exists nowhere, so its creation fails.
    const res = await start('IMAGE=ecoware/no-such-image:1');
    expect(res.status).toBe(502);
    expect(res.body.error).toMatch(/no-such-image/);
    expect(await everything()).toEqual(before);
    expect((await api.get('/api/topology')).body).toEqual(topology);
    expect((await api.get('/api/systems')).body.map((s: { sid: string }) => s.sid)).toEqual([first.sid]);
  });

  it('answers 202 at once with ?wait=false; the status then shows the system becoming ready', async () => {
    const res = await start(undefined, SHOP, '?wait=false');
    expect(res.status).toBe(202);
    const { sid, execution_id } = res.body.result;
    expect(res.headers.location).toBe(`/api/systems/${sid}`);
    expect(execution_id).toEqual(expect.any(String));
    let status = (await api.get(`/api/systems/${sid}`)).body;
    expect(status.ready).toBe(false);
    for (let i = 0; i < 100 && !status.ready; i++) {
      await new Promise((r) => setTimeout(r, 200));
      status = (await api.get(`/api/systems/${sid}`)).body;
    }
    expect(status.ready).toBe(true);
    for (let i = 0; i < 50 && (await api.get(`/api/systems/${sid}`)).body.status !== 'running'; i++) await new Promise((r) => setTimeout(r, 100));
    expect((await api.delete(`/api/systems/${sid}?volumes=true`)).status).toBe(200);
  });

  it('resizes a service in place with a plan, keeping its container and port', async () => {
    const res = await api.put('/api/execute').send({ [first.app]: { web: { cpu_cores: 1, mem_units: 3 } } });
    expect(res.status).toBe(200);
    const info = await engineClient(engineOf(first.webVm)).getContainer(first.webId).inspect();
    expect(info.HostConfig.Memory).toBe(3 * 64 * 1024 * 1024);
    const web = (await api.get(`/api/systems/${first.sid}`)).body.services.web.containers[0];
    expect(web.id).toBe(first.webId);
    expect(web.ports[0].host_port).toBe(first.webPort);
  });

  it('keeps the ports across docker restart and a daemon restart', async () => {
    await engineClient(engineOf(first.webVm)).getContainer(first.webId).restart({ t: 0 });
    expect((await fetchText(engineOf(first.webVm).address, first.webPort)).trim()).toBe('hello');
    await daemon.close();
    daemon = await startDaemon({ port: 0, stateDir, hostPorts: RANGE, systemReadyTimeoutMs: 60_000 });
    api = request(daemon.url);
    const status = (await api.get(`/api/systems/${first.sid}`)).body;
    expect(status.ready).toBe(true);
    expect(status.services.web.containers[0]).toMatchObject({ id: first.webId, ports: [expect.objectContaining({ host_port: first.webPort })] });
  });

  it('re-creates a removed container on the same node with the same port', async () => {
    // Moving web off and back: a plan removing it, then one restoring it, on a pool where it fits anywhere.
    const web = (await api.get(`/api/systems/${first.sid}`)).body.services.web.containers[0];
    // The system's record keeps the port chosen per VM and service: the re-creation asks for it.
    const records = storedSystems(stateDir);
    expect(records.find((r: { sid: string }) => r.sid === first.sid)!.host_ports[web.vm].web).toEqual({ '8080/tcp': first.webPort });
    expect((await api.put('/api/execute').send({ [first.app]: { web: { cpu_cores: 0, mem_units: 0 } } })).status).toBe(200);
    expect((await api.put('/api/execute').send({ [first.app]: { web: { cpu_cores: 1, mem_units: 2 } } })).status).toBe(200);
    const again = (await api.get(`/api/systems/${first.sid}`)).body.services.web.containers[0];
    expect(again.id).not.toBe(web.id);
    if (again.vm === web.vm) expect(again.ports[0].host_port).toBe(first.webPort);
    else console.warn('web was re-created on the other node; its port there is that node\'s lowest free one');
  });

  it('answers the Tycho routes in Tycho shapes, always with HTTP 200', async () => {
    const system = { version: '3.0', services: { web: { image: testImage(), command: ['httpd', '-f', '-p', '80', '-h', '/tmp'], ports: ['8888:80'], ext: {}, deploy: { resources: { limits: { cpus: '1', memory: '64M' }, reservations: { cpus: '1' } } } } } };
    const startRes = await api.post('/system/start').send({
      name: 'jupyter', env: { A: 'b' }, system, services: { web: { port: 80 } }, principal: JSON.stringify({ username: 'alice' }), serviceaccount: null,
    });
    expect(startRes.status).toBe(200);
    expect(startRes.body.status).toBe('success');
    const { result } = startRes.body;
    expect(Object.keys(result).sort()).toEqual(['conn_string', 'containers', 'name', 'sid']);
    expect(result.name).toBe(`jupyter-${result.sid}`);
    expect(result.containers.web).toEqual({ port: expect.any(Number), 'port-1': result.containers.web.port, ip_address: expect.any(String) });
    expect(startRes.body.message).toContain('warnings');

    const statusRes = await api.post('/system/status').send({ name: result.sid, username: 'alice' });
    expect(statusRes.status).toBe(200);
    expect(statusRes.body.result).toHaveLength(1);
    const item = statusRes.body.result[0];
    expect(Object.keys(item).sort()).toEqual(['app_id', 'conn_string', 'creation_time', 'ip_address', 'is_ready', 'name', 'port', 'sid', 'username', 'utilization', 'workspace_name']);
    expect(Object.values(item).every((v) => v !== null)).toBe(true);
    expect(item).toMatchObject({ app_id: 'jupyter', sid: result.sid, username: 'alice', is_ready: true, port: result.containers.web.port, utilization: { web: { cpu: '1', memory: '64Mi' } } });
    expect((await api.post('/system/status').send({ name: '0'.repeat(32) })).body).toEqual({ status: 'success', result: [], message: 'Get status' });

    const bad = await api.post('/system/start').send({ name: 'x', env: {}, principal: '{}' });
    expect(bad.status).toBe(200);
    expect(bad.body).toMatchObject({ status: 'error', result: { error: expect.stringContaining('system') } });
    expect((await api.post('/api/systems').send({ name: 'x' })).status).toBe(400);

    const del = await api.post('/system/delete').send({ name: result.sid });
    expect(del.status).toBe(200);
    expect(del.body.status).toBe('success');
    expect((await api.post('/system/delete').send({ name: result.sid })).body.status).toBe('error');
  });

  it('runs the example system through the CLI: up, ls, status, down', async () => {
    const cli = async (...args: string[]) => {
      const lines: string[] = [];
      const log = jest.spyOn(console, 'log').mockImplementation((...parts: unknown[]) => { lines.push(parts.join(' ')); });
      try {
        const program = new Command('ecoware-executor').exitOverride();
        register(program);
        await program.parseAsync([...args, '--url', daemon.url], { from: 'user' });
      } finally {
        log.mockRestore();
      }
      return lines.join('\n');
    };
    const root = path.join(__dirname, '../..');
    const up = await cli('systems', 'up', path.join(root, 'systems/shop.yaml'), '--env-file', path.join(root, 'systems/shop.env'), '--namespace', 'demo');
    const sid = /sid ([0-9a-f]{32})/.exec(up)![1];
    const port = /8080\/tcp->([\d.]+):(\d+)/.exec(up)!;
    expect(await fetchText(port[1], Number(port[2]))).toMatch(/^hello from web; db is /);
    expect(await cli('systems', 'ls', '--namespace', 'demo')).toMatch(new RegExp(`${sid}\\s+shop-${sid}\\s+demo\\s+running`));
    const status = await cli('systems', 'status', sid);
    expect(status).toContain(`shop-${sid}: ready`);
    expect(status).toMatch(/web\s+running\s+-\s+true/);
    expect(status).toMatch(/db\s+running\s+healthy\s+true/);
    expect(await cli('systems', 'down', sid, '--volumes')).toBe(`Deleted system ${sid}`);
    // A 404 is a refusal: the command's error says what is missing and exits with code 2.
    await expect(cli('systems', 'status', sid)).rejects.toMatchObject({ message: expect.stringMatching(/not found \(not_found\)/), exitCode: 2 });
  });

  it('deletes a system leaving nothing but its kept volume; a second delete is 404', async () => {
    const res = await api.delete(`/api/systems/${first.sid}`);
    expect(res.status).toBe(200);
    const left = await everything();
    for (const node of left) {
      expect(node.containers).toEqual([]);
      expect(node.networks).toEqual([]);
    }
    expect(left.flatMap((n) => n.volumes)).toEqual([`shop-${first.sid}_dbdata`]);
    expect((await api.get('/api/topology')).body.apps).toEqual([]);
    expect((await api.delete(`/api/systems/${first.sid}`)).status).toBe(404);
    expect((await api.get(`/api/systems/${'f'.repeat(32)}`)).status).toBe(404);
  });
});

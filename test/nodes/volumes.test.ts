import { promises as fs } from 'fs';
import * as os from 'os';
import * as path from 'path';
import { dockerExec, readInContainer, testImage } from '../support/docker';
import { engineClient, startEngine, TestEngine } from '../support/engines';
import { Api, PoolDaemon, startPoolDaemon } from '../support/pool-daemon';

/**
 * Volumes of topology tiers against two real engines: a node-local volume created on first mount,
 * its data surviving an in-place resize and a plan that would otherwise move its tier, a host path
 * under the --allow-bind root, and the node volumes API.
 */
const APP = 'vols';

describe('volumes on two engines', () => {
  let pool: PoolDaemon<TestEngine>;
  let engines: TestEngine[];
  let api: Api;
  let bindRoot: string;
  const engineOf = (node: string) => engines[Number(node.slice(1)) - 1];
  const topology = (dbVolumes: string[]) => pool.topology([{ name: APP, tiers: {
    db: { max_node: 1, docker_image: testImage(), volumes: dbVolumes },
    big: { max_node: 1, docker_image: testImage() },
    side: { max_node: 1, docker_image: testImage(), node_selector: { role: 'side' } },
  } }]);
  const nodeOf = async (tier: string): Promise<string> => {
    const nodes = (await api.get('/api/nodes')).body as { name: string; containers: { tier: string }[] }[];
    return nodes.find((n) => n.containers.some((c) => c.tier === tier || c.tier === `${APP}_${tier}`))!.name;
  };

  // The topology is PUT by the tests: the first one checks what it refuses.
  beforeAll(async () => {
    bindRoot = await fs.mkdtemp(path.join(os.tmpdir(), 'ecoware-bind-'));
    await fs.writeFile(path.join(bindRoot, 'motd'), 'from the host\n');
    pool = await startPoolDaemon({
      startEngine, engineIndexes: [21, 22],
      nodeLabels: (i) => ({ role: i === 1 ? 'side' : 'main' }),
      daemonConfig: { solverTimeLimitMs: 5000, allowBind: bindRoot },
      infrastructure: {
        cpu_cores: 2, mem_units: 4, mem_unit_mb: 16, reconcile_interval_s: 0, max_vms: 2,
        volumes: { data: {}, spare: { shared: true } },
      },
    });
    ({ engines, api } = pool);
  }, 180_000);

  afterAll(async () => {
    await pool?.close();
    if (bindRoot) await fs.rm(bindRoot, { recursive: true, force: true });
  });

  it('refuses host paths outside the --allow-bind root and unknown volumes, naming the field', async () => {
    const outside = await api.put('/api/topology').send(topology(['/etc:/host-etc']));
    expect(outside.status).toBe(400);
    expect(outside.body).toMatchObject({ code: 'invalid', error: expect.stringContaining(`host path '/etc' is outside the allowed root ${bindRoot}`) });
    expect(outside.body.error).toContain('apps[0].tiers.db.volumes[0]');
    const escaping = await api.put('/api/topology').send(topology([`${bindRoot}/../etc:/e`]));
    expect(escaping.status).toBe(400);
    const unknown = await api.put('/api/topology').send(topology(['logs:/logs']));
    expect(unknown.status).toBe(400);
    expect(unknown.body.error).toContain("volume 'logs' is not declared");
    expect((await api.get('/api/topology')).status).not.toBe(200);
  });

  let host: string;
  let other: string;
  let dbId: string;

  it('creates the volume, labelled managed, on the node where the tier lands, and mounts it', async () => {
    expect((await api.put('/api/topology').send(topology(['data:/data', `${bindRoot}:/host:ro`]))).status).toBe(200);
    // Both tiers on one node: the other one is cordoned for the first plan.
    expect((await api.post('/api/nodes/n2/cordon')).status).toBe(200);
    const res = await api.put('/api/execute').send({ [APP]: { db: { cpu_cores: 1, mem_units: 1 }, big: { cpu_cores: 1, mem_units: 1 } } });
    expect(res.status).toBe(200);
    expect((await api.post('/api/nodes/n2/uncordon')).status).toBe(200);
    host = await nodeOf('db');
    other = host === 'n1' ? 'n2' : 'n1';
    expect(host).toBe('n1');
    expect(other).toBe('n2');
    expect(await nodeOf('big')).toBe(host);

    const volume = await engineClient(engineOf(host)).getVolume('data').inspect();
    expect(volume.Labels).toMatchObject({ 'io.ecoware.managed': 'true' });
    await expect(engineClient(engineOf(other)).getVolume('data').inspect()).rejects.toMatchObject({ statusCode: 404 });

    const db = await engineClient(engineOf(host)).getContainer(`${APP}_db`).inspect();
    dbId = db.Id;
    expect(db.Mounts.map((m) => [m.Type, m.Name ?? m.Source, m.Destination, m.RW]).sort()).toEqual([
      ['bind', bindRoot, '/host', false],
      ['volume', 'data', '/data', true],
    ].sort());
    expect(await readInContainer(engineClient(engineOf(host)), `${APP}_db`, '/host/motd')).toBe('from the host\n');
    await dockerExec(engineClient(engineOf(host)), `${APP}_db`, ['sh', '-c', 'echo kept > /data/file']);
  });

  it('keeps the data through an in-place resize', async () => {
    const res = await api.put('/api/execute').send({ [APP]: { db: { cpu_cores: 1, mem_units: 2 } } });
    expect(res.status).toBe(200);
    const db = await engineClient(engineOf(host)).getContainer(`${APP}_db`).inspect();
    expect(db.Id).toBe(dbId);
    expect(db.HostConfig.Memory).toBe(2 * 16 * 1024 * 1024);
    expect(await readInContainer(engineClient(engineOf(host)), `${APP}_db`, '/data/file')).toBe('kept\n');
  });

  it('refuses with 422 a plan that only a move of the tier would meet, and changes nothing', async () => {
    // side takes one core of n2. big then needs both cores of n1 and cannot fit on n2: only moving
    // db to n2 would make room (the static pool has no third node).
    expect((await api.put('/api/execute').send({ [APP]: { side: { cpu_cores: 1, mem_units: 1 } } })).status).toBe(200);
    expect(await nodeOf('side')).toBe(other);
    const res = await api.put('/api/execute').send({ [APP]: { big: { cpu_cores: 2, mem_units: 2 } } });
    expect(res.status).toBe(422);
    expect(res.body.error).toContain(`tier '${APP}_db' on '${host}' (volume 'data')`);
    expect(await nodeOf('db')).toBe(host);
    expect((await engineClient(engineOf(host)).getContainer(`${APP}_db`).inspect()).Id).toBe(dbId);
    expect(await readInContainer(engineClient(engineOf(host)), `${APP}_db`, '/data/file')).toBe('kept\n');
  });

  it('keeps the tier on its node when the plan would otherwise move it: the neighbour moves instead', async () => {
    // db needs the whole node now; one of the two has to leave it.
    const res = await api.put('/api/execute').send({ [APP]: { db: { cpu_cores: 2, mem_units: 3 } } });
    expect(res.status).toBe(200);
    expect(await nodeOf('db')).toBe(host);
    expect(await nodeOf('big')).toBe(other);
    const db = await engineClient(engineOf(host)).getContainer(`${APP}_db`).inspect();
    expect(db.Id).toBe(dbId);
    expect(db.HostConfig.CpusetCpus).toBe('0,1');
    expect(await readInContainer(engineClient(engineOf(host)), `${APP}_db`, '/data/file')).toBe('kept\n');
  });

  it('lists the node volumes with the containers that use them', async () => {
    const res = await api.get(`/api/nodes/${host}/volumes`);
    expect(res.status).toBe(200);
    expect(res.body).toContainEqual(expect.objectContaining({ name: 'data', driver: 'local', managed: true, used_by: [`${APP}_db`] }));
    expect((await api.get('/api/nodes/nowhere/volumes')).status).toBe(404);
  });

  it('creates a volume once, answers an identical request as it is and a different one with 409 unless recreate', async () => {
    const created = await api.post(`/api/nodes/${other}/volumes`).send({ name: 'scratch', driver: 'local' });
    expect(created.status).toBe(201);
    expect(created.headers.location).toBe(`/api/nodes/${other}/volumes/scratch`);
    expect(created.body).toMatchObject({ name: 'scratch', driver: 'local', managed: true, used_by: [] });
    expect((await engineClient(engineOf(other)).getVolume('scratch').inspect()).Labels).toMatchObject({ 'io.ecoware.managed': 'true' });

    expect((await api.post(`/api/nodes/${other}/volumes`).send({ name: 'scratch' })).status).toBe(200);
    const opts = { type: 'tmpfs', device: 'tmpfs', o: 'size=1m' };
    const different = await api.post(`/api/nodes/${other}/volumes`).send({ name: 'scratch', driver_opts: opts });
    expect(different.status).toBe(409);
    expect(different.body.error).toContain('recreate: true');
    const recreated = await api.post(`/api/nodes/${other}/volumes`).send({ name: 'scratch', driver_opts: opts, recreate: true });
    expect(recreated.status).toBe(201);
    expect((await engineClient(engineOf(other)).getVolume('scratch').inspect()).Options).toEqual(opts);

    const bad = await api.post(`/api/nodes/${other}/volumes`).send({ name: '../x' });
    expect(bad.status).toBe(400);
    expect(bad.body).toMatchObject({ code: 'invalid', error: expect.stringContaining('name') });
  });

  it('removes an unused volume, refuses one in use naming its containers', async () => {
    const inUse = await api.delete(`/api/nodes/${host}/volumes/data`);
    expect(inUse.status).toBe(409);
    expect(inUse.body.error).toContain(`'${APP}_db'`);
    expect((await engineClient(engineOf(host)).getVolume('data').inspect()).Name).toBe('data');

    expect((await api.delete(`/api/nodes/${other}/volumes/scratch`)).status).toBe(204);
    await expect(engineClient(engineOf(other)).getVolume('scratch').inspect()).rejects.toMatchObject({ statusCode: 404 });
    expect((await api.delete(`/api/nodes/${other}/volumes/scratch`)).status).toBe(404);
  });

  it.each([
    ['..', '..'],
    ['%2e%2e%2f%2e%2e', '../..'],
    ['%00', '\u0000'],
  ])('refuses to remove a volume named %s, which would be another engine path, and keeps serving', async (raw, name) => {
    const before = (await api.get(`/api/nodes/${host}/volumes`)).body;
    const res = await api.delete(`/api/nodes/${host}/volumes/${raw}`);
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({ code: 'invalid', field: 'volume', error: expect.stringContaining(`'${name}' is not a valid volume name`) });
    expect((await api.get(`/api/nodes/${host}/volumes`)).body).toEqual(before);
  });
});

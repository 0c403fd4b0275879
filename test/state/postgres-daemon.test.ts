import { promises as fs } from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as fsSync from 'fs';
import request from 'supertest';
import { Daemon, startDaemon } from '../../src/main';
import { LABEL_APP, LABEL_EPOCH } from '../../src/drivers/docker/labels';
import { inspectContainer, removeContainersByLabel, testDockerEndpoint, testImage } from '../support/docker';
import { startPostgres, TestPostgres } from '../support/postgres';

/** A daemon whose state is in PostgreSQL applies a plan on a real engine and, restarted, finds it all again. */
const APP = `pgd${process.pid}`;

describe('a daemon on PostgreSQL', () => {
  let pg: TestPostgres;
  let root: string;
  let daemon: Daemon | undefined;

  beforeAll(async () => {
    await removeContainersByLabel(LABEL_APP, APP);
    pg = await startPostgres();
    root = await fs.mkdtemp(path.join(os.tmpdir(), 'ecoware-pg-daemon-'));
  }, 60_000);
  afterAll(async () => {
    await daemon?.close();
    await removeContainersByLabel(LABEL_APP, APP);
    await pg?.remove();
    await fs.rm(root, { recursive: true, force: true });
  }, 60_000);

  const start = (stateDir: string) => startDaemon({ port: 0, stateDir: path.join(root, stateDir), databaseUrl: pg.url, localDocker: testDockerEndpoint().url, solverTimeLimitMs: 5_000 });

  it('applies a plan, and after a restart finds its topology, executions and containers', async () => {
    daemon = await start('first');
    const api = request(daemon.url);
    const topology = {
      infrastructure: { cloud_driver: { type: 'static', nodes: [{ name: 'node1', docker: testDockerEndpoint().url }] }, cpu_cores: 2, mem_units: 8, mem_unit_mb: 16 },
      apps: [{ name: APP, tiers: { db: { docker_image: testImage() } } }],
    };
    expect((await api.put('/api/topology').send(topology)).status).toBe(200);
    const applied = await api.put('/api/execute').send({ [APP]: { db: { cpu_cores: 1, mem_units: 2 } } });
    expect(applied.status).toBe(200);
    const id = applied.body.execution_id as string;
    const allocation = (await api.get('/api/allocation')).body;
    // The record and the container carry the epoch of the leader that made them (the first: 1).
    expect((await api.get(`/api/executions/${id}`)).body).toMatchObject({ status: 'succeeded', epoch: 1 });
    expect((await inspectContainer(`${APP}_db`))?.Config.Labels).toMatchObject({ [LABEL_EPOCH]: '1', [LABEL_APP]: APP });
    expect(allocation.node1.used).toEqual({ [`${APP}_db`]: { cpu_cores: 1, mem_units: 2 } });
    await daemon.close();
    daemon = undefined;

    // Another state dir: what the daemon finds comes from PostgreSQL, not from files.
    daemon = await start('second');
    const again = request(daemon.url);
    expect((await again.get('/readyz')).status).toBe(200);
    expect((await again.get('/api/topology')).body).toMatchObject({ apps: [{ name: APP }] });
    const executions = (await again.get('/api/executions')).body;
    expect(executions.objects.map((e: { id: string }) => e.id)).toEqual([id]);
    expect((await again.get(`/api/executions/${id}`)).body).toMatchObject({ status: 'succeeded', steps: [[{ status: 'succeeded' }]] });
    expect((await again.get('/api/allocation')).body).toEqual(allocation);
    // The second state dir came back with everything above from PostgreSQL; no state is kept in it
    // (no SQLite file: systems and cordons are in PostgreSQL too).
    expect(fsSync.existsSync(path.join(root, 'second', 'ecoware.db'))).toBe(false);
  });
});

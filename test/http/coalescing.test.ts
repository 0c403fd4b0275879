import { promises as fs } from 'fs';
import * as os from 'os';
import * as path from 'path';
import { Daemon, startDaemon } from '../../src/main';
import { LABEL_APP } from '../../src/drivers/docker/labels';
import { removeContainersByLabel, testDockerEndpoint, testImage } from '../support/docker';

/**
 * Coalescing against a real engine, as a planner meets it: a plan that cannot be met alone is
 * queued behind a running one, a newer plan arrives and is merged with it; applied in order, the
 * older fails and the newer succeeds, and so it must be when they are merged.
 */
const MEM_UNIT_MB = 16;

const topology = {
  infrastructure: {
    cloud_driver: { type: 'static', nodes: [{ name: 'node1', docker: testDockerEndpoint().url }] },
    cpu_cores: 2, mem_units: 16, mem_unit_mb: MEM_UNIT_MB,
  },
  apps: [
    {
      name: 'pwitter',
      tiers: {
        web: { docker_image: testImage() },
        // Its hook keeps the first plan running while the others arrive.
        worker: { docker_image: testImage(), on_node_scale: { exec: '/bin/sleep', argv: ['3'] } },
      },
    },
    { name: 'rubis', tiers: { jboss: { docker_image: testImage() } } },
  ],
};

describe('coalesced plans against a real engine', () => {
  let stateDir: string;
  let daemon: Daemon;
  const call = async (method: string, route: string, body?: string) => {
    const res = await fetch(`${daemon.url}${route}`, { method, body, headers: body === undefined ? {} : { 'content-type': 'application/json' } });
    return { status: res.status, body: await res.json() as any };
  };
  const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

  beforeAll(async () => {
    for (const app of ['pwitter', 'rubis']) await removeContainersByLabel(LABEL_APP, app);
    stateDir = await fs.mkdtemp(path.join(os.tmpdir(), 'ecoware-coalesce-'));
    daemon = await startDaemon({ port: 0, stateDir, localDocker: testDockerEndpoint().url, solverTimeLimitMs: 5000 });
    expect((await call('PUT', '/api/topology', JSON.stringify(topology))).status).toBe(200);
  });
  afterAll(async () => {
    await daemon?.close();
    for (const app of ['pwitter', 'rubis']) await removeContainersByLabel(LABEL_APP, app);
    await fs.rm(stateDir, { recursive: true, force: true });
  });

  it('a queued plan that fails alone does not make the newer plan merged with it fail', async () => {
    const start = await call('POST', '/api/executor', '{"pwitter-web":{"mem_units":4,"cpu_cores":1}}');
    expect(start).toMatchObject({ status: 200, body: { status: 'succeeded' } });

    const running = await call('POST', '/api/executor?wait=false', '{"pwitter-worker":{"mem_units":1,"cpu_cores":1}}');
    expect(running.status).toBe(202);
    for (let i = 0; i < 100 && (await call('GET', `/api/executions/${running.body.execution_id}`)).body.status !== 'running'; i++) await sleep(30);
    // Alone it fails once the worker runs: 3 cores on a 2-core node.
    const doomed = await call('POST', '/api/executor?wait=false', '{"rubis-jboss":{"mem_units":2,"cpu_cores":1}}');
    expect(doomed.status).toBe(202);
    const last = await call('POST', '/api/executor', '{"pwitter-web":{"mem_units":2,"cpu_cores":1}}');

    expect(last.status).toBe(200);
    expect(last.body).toMatchObject({ status: 'succeeded' });
    expect((await call('GET', `/api/executions/${running.body.execution_id}`)).body.status).toBe('succeeded');
    const doomedRecord = (await call('GET', `/api/executions/${doomed.body.execution_id}`)).body;
    expect(doomedRecord).toMatchObject({ status: 'failed', error: { code: 'no_solution' } });
    const lastRecord = (await call('GET', `/api/executions/${last.body.execution_id}`)).body;
    expect(lastRecord.notes.join('\n')).toContain('applied one by one in arrival order');
    expect(lastRecord.supersedes).toBeUndefined();
    // The engine says: pwitter's web at 2 units, no rubis container.
    const probe = (await call('GET', '/api/executor/inspect')).body as Record<string, { CpusetCpus: string; Memory: number }>;
    expect(probe['pwitter-web'].Memory).toBe(2 * MEM_UNIT_MB * 1024 * 1024);
    expect(probe['rubis-jboss']).toBeUndefined();
  });
});

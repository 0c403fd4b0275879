import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import request from 'supertest';
import { Daemon, startDaemon } from '../../src/main';
import { LABEL_APP } from '../../src/drivers/docker/labels';
import { engine as dockerClient, readInContainer, removeContainersByLabel, testDockerEndpoint, testImage } from '../support/docker';

const image = testImage();
import { exampleHookFiles, GitFixture } from '../support/git-fixture';

/**
 * Hooks through the running daemon: the example hooks of this repository from a real git
 * repository, process definitions registered over HTTP and named by `process:<id>`, inline
 * definitions, and refusals that leave the topology in force with its hooks. Containers are
 * asked through the engine directly.
 */
const APP = `hk${process.pid}`;
const removeAppContainers = () => removeContainersByLabel(LABEL_APP, APP);

describe('hooks through the daemon', () => {
  let root: string;
  let repo: GitFixture;
  let daemon: Daemon;
  let api: ReturnType<typeof request>;
  let definitionId: number;

  const topology = (hooks: { repo?: string; app_server?: unknown; loadbalancer?: unknown }) => ({
    infrastructure: {
      cloud_driver: { type: 'static', nodes: [{ name: 'node1', docker: testDockerEndpoint().url }] },
      hooks_git_repo: hooks.repo ?? repo.url,
      cpu_cores: 2, mem_units: 8, mem_unit_mb: 16,
    },
    apps: [{
      name: APP,
      tiers: {
        loadbalancer: {
          max_node: 1, docker_image: image, depends_on: ['app_server'],
          on_dependency_scale: 'reload_server_pool.sh', environment: { UPSTREAM_PORT: '80' },
          ...(hooks.loadbalancer ? { on_node_scale: hooks.loadbalancer } : {}),
        },
        app_server: { docker_image: image, ...(hooks.app_server ? { on_node_scale: hooks.app_server } : {}) },
      },
    }],
  });

  beforeAll(async () => {
    await removeAppContainers();
    root = await fs.mkdtemp(path.join(os.tmpdir(), 'ecoware-hooks-daemon-'));
    repo = new GitFixture(root);
    repo.commit(exampleHookFiles(), 'example hooks');
    daemon = await startDaemon({ port: 0, stateDir: path.join(root, 'state'), solverTimeLimitMs: 5000 });
    api = request(daemon.url);
  });

  afterAll(async () => {
    await daemon?.close();
    await removeAppContainers();
    await fs.rm(root, { recursive: true, force: true });
  });

  it('runs registered, inline and repository hooks where and with what the contract says', async () => {
    const created = await api.post('/api/process_definition/').send({
      definition: {
        exec: '/bin/sh',
        argv: ['-c', 'cat > /tmp/app-hook.json; echo "app server has $ECOWARE_CPU_CORES core(s)"'],
        output_adapter: { output_type: 'file', output_parameters: { file_type: 'stream', stream_name: 'STDOUT' } },
      },
    }).expect(201);
    definitionId = created.body.id;

    await api.put('/api/topology').send(topology({
      app_server: `process:${definitionId}`,
      loadbalancer: { exec: 'sh', argv: ['-c', 'cp "$1" /tmp/lb-input.json', 'lb', '${input_file}'], input_adapter: { input_type: 'file', file_path: '${input_file}' } },
    })).expect(200);

    const res = await api.put('/api/execute').send({
      [APP]: { loadbalancer: { cpu_cores: 1, mem_units: 1 }, app_server: { cpu_cores: 1, mem_units: 2 } },
    });
    expect(res.status).toBe(200);

    const records = (res.body.steps as { description: string; hooks: { hook: string; exitCode: number; output?: string }[] }[][]).flat();
    const appRecord = records.find((r) => r.description.startsWith(`create container '${APP}_app_server'`))!;
    expect(appRecord.hooks).toEqual([expect.objectContaining({
      hook: `process:${definitionId}`, exitCode: 0, output: 'app server has 1 core(s)\n',
    })]);

    const docker = dockerClient();
    const appPayload = JSON.parse(await readInContainer(docker, `${APP}_app_server`, '/tmp/app-hook.json'));
    expect(appPayload).toMatchObject({ tier: `${APP}_app_server`, app: APP, vm: 'node1', event: 'on_node_scale', cpu_cores: 1, mem_units: 2 });
    expect(appPayload.new_allocation.node1[`${APP}_app_server`]).toEqual({ cpu_cores: 1, mem_units: 2 });
    const lbPayload = JSON.parse(await readInContainer(docker, `${APP}_loadbalancer`, '/tmp/lb-input.json'));
    expect(lbPayload).toMatchObject({ tier: `${APP}_loadbalancer`, event: 'on_node_scale', cpu_cores: 1, mem_units: 1 });

    // The load balancer's example hook ran after the app server appeared and wrote its pool.
    const pool = await readInContainer(docker, `${APP}_loadbalancer`, '/etc/ecoware/upstream.conf');
    expect(pool).toContain(`upstream ${APP}_app_server {`);
    expect(pool).toContain('server node1:80;');
  });

  it('refuses a topology naming an unregistered process definition, and the one in force stays', async () => {
    const res = await api.put('/api/topology').send(topology({ app_server: 'process:999' }));
    expect(res.status).toBe(422);
    expect(res.body.error).toContain("apps[0].tiers.app_server.on_node_scale: process definition '999' is not registered");
    expect((await api.get('/api/topology')).body.apps[0].tiers.app_server.on_node_scale).toBe(`process:${definitionId}`);
  });

  it('uses a changed registered definition from the next run on', async () => {
    await api.put(`/api/process_definition/${definitionId}/`).send({
      definition: {
        exec: '/bin/sh', argv: ['-c', 'echo "v2 with $ECOWARE_MEM_UNITS units"'],
        output_adapter: { output_type: 'file', output_parameters: { file_type: 'stream', stream_name: 'STDOUT' } },
      },
    }).expect(200);
    const res = await api.put('/api/execute').send({ [APP]: { app_server: { cpu_cores: 1, mem_units: 3 } } });
    expect(res.status).toBe(200);
    const update = (res.body.steps as { description: string; hooks: { output?: string }[] }[][]).flat()
      .find((r) => r.description.startsWith(`update container '${APP}_app_server'`))!;
    expect(update.hooks[0].output).toBe('v2 with 3 units\n');
  });
});

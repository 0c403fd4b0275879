import { ChildProcess, spawn } from 'node:child_process';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { freePort, removeContainersByLabel, testDockerEndpoint, testImage } from '../support/docker';
import { LABEL_APP } from '../../src/drivers/docker/labels';

/**
 * A restarting daemon answers honestly from the moment its port opens: `/livez` 200, and what
 * needs the persisted topology 503 `starting` with Retry-After until it is back — never the 409
 * "no topology is loaded" that would make a planner send a topology. Started as a user starts it
 * (`node dist/cli.js start`), killed with -9 and restarted on the same state, on the real engine.
 */
const CLI = path.join(__dirname, '../../dist/cli.js');
const APP = 'restarting';

describe('a daemon restarted after kill -9', () => {
  let stateDir: string;
  let child: ChildProcess | undefined;
  const start = (port: number) => spawn(process.execPath, [CLI, 'start', '--port', String(port), '--state-dir', stateDir], {
    stdio: 'ignore', env: { ...process.env, DOCKER_HOST: testDockerEndpoint().url, ECOWARE_LOG_LEVEL: 'warn' },
  });
  const kill = async () => {
    if (!child || child.exitCode !== null) return;
    const exited = new Promise((r) => child!.once('exit', r));
    child.kill('SIGKILL');
    await exited;
  };
  const ask = async (port: number, method: string, route: string, body?: unknown) => {
    try {
      const res = await fetch(`http://127.0.0.1:${port}${route}`, {
        method, body: body === undefined ? undefined : JSON.stringify(body), headers: body === undefined ? {} : { 'content-type': 'application/json' },
      });
      return { status: res.status, retryAfter: res.headers.get('retry-after'), body: await res.json().catch(() => undefined) as any };
    } catch {
      return undefined; // the port is not open yet
    }
  };

  beforeAll(async () => {
    await removeContainersByLabel(LABEL_APP, APP);
    stateDir = await fs.mkdtemp(path.join(os.tmpdir(), 'ecoware-restart-'));
  });
  afterAll(async () => {
    await kill();
    await removeContainersByLabel(LABEL_APP, APP);
    await fs.rm(stateDir, { recursive: true, force: true });
  });

  it('answers 503 starting with Retry-After, never 409, until the persisted topology is back', async () => {
    const port = await freePort();
    child = start(port);
    for (let i = 0; i < 600 && (await ask(port, 'GET', '/readyz'))?.status !== 200; i++) await new Promise((r) => setTimeout(r, 50));
    const topology = {
      infrastructure: { cloud_driver: { type: 'static', nodes: [{ name: 'node1', docker: testDockerEndpoint().url }] }, cpu_cores: 1, mem_units: 4, mem_unit_mb: 16 },
      apps: [{ name: APP, tiers: { web: { docker_image: testImage() } } }],
    };
    expect((await ask(port, 'PUT', '/api/topology', topology))?.status).toBe(200);
    expect((await ask(port, 'PUT', '/api/execute', { [APP]: { web: { cpu_cores: 1, mem_units: 1 } } }))?.status).toBe(200);
    await kill();

    child = start(port);
    const seen: { status: number; code?: string; retryAfter: string | null }[] = [];
    let topologyBack = false;
    for (let i = 0; i < 3000 && !topologyBack; i++) {
      const answer = await ask(port, 'GET', '/api/topology');
      if (answer) {
        seen.push({ status: answer.status, code: answer.body?.code, retryAfter: answer.retryAfter });
        topologyBack = answer.status === 200;
      }
      const plan = await ask(port, 'POST', '/api/executor', { [`${APP}-web`]: { cpu_cores: 1, mem_units: 1 } });
      if (plan && !topologyBack) expect([200, 503]).toContain(plan.status);
      await new Promise((r) => setTimeout(r, 5));
    }
    expect(topologyBack).toBe(true);
    expect(seen.length).toBeGreaterThan(1);
    for (const answer of seen.slice(0, -1)) expect(answer).toEqual({ status: 503, code: 'starting', retryAfter: expect.stringMatching(/^\d+$/) });
    expect((await ask(port, 'GET', '/livez'))?.status).toBe(200);
    expect((await ask(port, 'GET', '/api/allocation'))?.body.node1.used).toEqual({ [`${APP}_web`]: { cpu_cores: 1, mem_units: 1 } });
    await ask(port, 'PUT', '/api/execute', { [APP]: { web: { cpu_cores: 0, mem_units: 0 } } });
  });
});

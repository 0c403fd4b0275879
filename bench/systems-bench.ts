import { execFile } from 'node:child_process';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';
import Docker from 'dockerode';
import { dockerClient } from '../dev/local-cloud/dockerd-engine';
import { startDaemon } from '../src/main';
import { startEngine, TestEngine } from '../test/support/engines';
import { CountingProxy } from './support/counting-proxy';
import { callDaemon } from './support/daemon-client';
import { elapsedMs, formatMs, markdownTable, median } from './support/stats';

const execFileAsync = promisify(execFile);

/**
 * `npm run bench:systems`: the time from request to every service ready, for the same compose file
 * on the same engine, through the daemon (`POST /api/systems`, which answers once every service is
 * running and healthy) and through Debian's docker-compose 1.29 (`up -d`, then polling the engine
 * every 100 ms until every container runs and the healthchecked one is healthy; 1.29 has no
 * `--wait`). Runs alternate which goes first; each run is torn down (with its volumes) before the next,
 * and the tear-down is timed too (`DELETE /api/systems/:sid?volumes=true` against `down -v`). The
 * daemon reaches the engine through a proxy that counts its calls: the table gives the engine calls
 * one start and one delete make (medians over the runs, by call).
 *
 *   BENCH_SYSTEMS_ROUNDS=5    measured runs of each
 */
const FILE = (image: string) => `services:
  db:
    image: ${image}
    command: ["sh", "-c", "sleep 1; : > /tmp/ready; exec sleep 2147483647"]
    healthcheck:
      test: ["CMD-SHELL", "[ -f /tmp/ready ]"]
      interval: 500ms
      retries: 60
    volumes: ["dbdata:/data"]
    deploy:
      resources:
        limits: {cpus: "1", memory: 64M}
  web:
    image: ${image}
    command: ["httpd", "-f", "-p", "8080", "-h", "/tmp"]
    ports: ["8080"]
    depends_on:
      db: {condition: service_healthy}
    deploy:
      resources:
        limits: {cpus: "1", memory: 64M}
volumes:
  dbdata: {}
`;

async function main(): Promise<void> {
  const rounds = Number(process.env.BENCH_SYSTEMS_ROUNDS ?? 5);
  const image = process.env.ECOWARE_TEST_IMAGE ?? 'ecoware/busybox:latest';
  const { stdout: composeVersion } = await execFileAsync('docker-compose', ['version', '--short']);
  const engine = await startEngine(9);
  const stateDir = await fs.mkdtemp(path.join(os.tmpdir(), 'ecoware-systems-bench-'));
  const work = await fs.mkdtemp(path.join(os.tmpdir(), 'ecoware-compose-bench-'));
  const composeFile = path.join(work, 'docker-compose.yml');
  await fs.writeFile(composeFile, FILE(image));
  const proxy = new CountingProxy({ host: engine.address, port: 2375 });
  const proxied = await proxy.start();
  const daemon = await startDaemon({ port: 0, stateDir });
  try {
    await callDaemon(daemon.url, 'PUT', '/api/topology', {
      infrastructure: { cloud_driver: { type: 'static', nodes: [{ name: 'n1', docker: proxied, address: engine.address }] }, cpu_cores: 2, mem_units: 16, mem_unit_mb: 64 },
      apps: [],
    });
    const docker = dockerClient(engine.address, 2375);
    const ours: number[] = [];
    const theirs: number[] = [];
    const oursDown: number[] = [];
    const theirsDown: number[] = [];
    const startCalls: Map<string, number>[] = [];
    const deleteCalls: Map<string, number>[] = [];
    // One unmeasured run of each warms the engine (image layers, network driver).
    for (let round = -1; round < rounds; round++) {
      const order = round % 2 === 0 ? ['ecoware', 'compose'] : ['compose', 'ecoware'];
      for (const who of order) {
        const run = who === 'ecoware' ? await viaDaemon(daemon.url, FILE(image), proxy) : await viaCompose(engine, docker, composeFile, `bench${round + 1}`);
        if (round < 0) continue;
        (who === 'ecoware' ? ours : theirs).push(run.up);
        (who === 'ecoware' ? oursDown : theirsDown).push(run.down);
        if (run.calls) {
          startCalls.push(run.calls.start);
          deleteCalls.push(run.calls.delete);
        }
      }
    }
    const table = markdownTable(
      ['runner', 'runs', 'median to ready', 'min', 'max', 'median delete', 'min', 'max'],
      [
        ['ecoware-executor `POST /api/systems`, `DELETE`', String(ours.length), ...spread(ours), ...spread(oursDown)],
        [`docker-compose ${composeVersion.trim()} \`up -d\` + polling, \`down -v\``, String(theirs.length), ...spread(theirs), ...spread(theirsDown)],
      ],
    );
    console.log(`# Systems: request to every service ready\n\nOne private dockerd (${engine.endpoint}), ${os.cpus().length} cores; the file: db with a healthcheck (ready after 1 s, checked every 500 ms) and a named volume, web depending on it with service_healthy.\n\n${table}\n\nratio ecoware / compose (medians): start ${(median(ours) / median(theirs)).toFixed(2)}, delete ${(median(oursDown) / median(theirsDown)).toFixed(2)}\n\n## Engine calls of the daemon (median per run)\n\n${callTable(startCalls, deleteCalls)}`);
  } finally {
    await daemon.close();
    await proxy.stop();
    await engine.stop();
    await fs.rm(stateDir, { recursive: true, force: true });
    await fs.rm(work, { recursive: true, force: true });
  }
}

interface Run {
  up: number;
  down: number;
  calls?: { start: Map<string, number>; delete: Map<string, number> };
}

function spread(values: number[]): string[] {
  return [formatMs(median(values)), formatMs(Math.min(...values)), formatMs(Math.max(...values))];
}

function callTable(starts: Map<string, number>[], deletes: Map<string, number>[]): string {
  const keys = [...new Set([...starts, ...deletes].flatMap((m) => [...m.keys()]))].sort();
  const at = (runs: Map<string, number>[], key: string) => median(runs.map((m) => m.get(key) ?? 0));
  const total = (runs: Map<string, number>[]) => median(runs.map((m) => [...m.values()].reduce((a, b) => a + b, 0)));
  return markdownTable(['engine call', 'start', 'delete'], [
    ...keys.map((k) => [`\`${k}\``, String(at(starts, k)), String(at(deletes, k))]),
    ['all', String(total(starts)), String(total(deletes))],
  ]);
}

async function viaDaemon(url: string, compose: string, proxy: CountingProxy): Promise<Run> {
  proxy.take();
  const started = process.hrtime.bigint();
  const answer = await callDaemon<{ result: { sid: string } }>(url, 'POST', '/api/systems', { name: 'bench', compose }, 201);
  const up = elapsedMs(started);
  const start = proxy.take();
  const deleting = process.hrtime.bigint();
  await callDaemon(url, 'DELETE', `/api/systems/${answer.result.sid}?volumes=true`);
  const down = elapsedMs(deleting);
  return { up, down, calls: { start, delete: proxy.take() } };
}

async function viaCompose(engine: TestEngine, docker: Docker, file: string, project: string): Promise<Run> {
  const env = { ...process.env, DOCKER_HOST: engine.endpoint, COMPOSE_INTERACTIVE_NO_CLI: '1' };
  const started = process.hrtime.bigint();
  await execFileAsync('docker-compose', ['-p', project, '-f', file, 'up', '-d'], { env });
  for (;;) {
    const containers = await docker.listContainers({ all: true, filters: { label: [`com.docker.compose.project=${project}`] } });
    const inspected = await Promise.all(containers.map((c) => docker.getContainer(c.Id).inspect()));
    const ready = inspected.length === 2 && inspected.every((c) => c.State.Running && (!c.State.Health || c.State.Health.Status === 'healthy'));
    if (ready) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  const up = elapsedMs(started);
  const stopping = process.hrtime.bigint();
  await execFileAsync('docker-compose', ['-p', project, '-f', file, 'down', '-v'], { env });
  return { up, down: elapsedMs(stopping) };
}

main().catch((e) => {
  console.error(e);
  process.exitCode = 1;
});

import { execFile } from 'node:child_process';
import { promises as fsp } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { setLogLevel } from '../src/log';
import { startDaemon } from '../src/main';
import { elapsedMs, formatMs, markdownTable, percentile } from './support/stats';

const run = promisify(execFile);

/**
 * `npm run bench:jobs`: N short jobs (`true`, default 100; BENCH_JOBS_N) through the daemon on the
 * engine at DOCKER_HOST (one node of `cores` cores, BENCH_JOBS_CORES, default 2: that many at once),
 * against the same N containers started by `docker run --rm` with the same parallelism. Reports the
 * total time, submit → container running (p50/p95), and dispatches accepted per second.
 * The image is ECOWARE_TEST_IMAGE or ecoware/busybox:latest (scripts/ensure-docker.sh makes it).
 */
const N = Number(process.env.BENCH_JOBS_N ?? 100);
const CORES = Number(process.env.BENCH_JOBS_CORES ?? 2);
const IMAGE = process.env.ECOWARE_TEST_IMAGE ?? 'ecoware/busybox:latest';
const DOCKER_HOST = process.env.DOCKER_HOST ?? 'unix:///var/run/docker.sock';

async function throughDaemon(): Promise<{ totalMs: number; waits: number[]; dispatchPerS: number }> {
  const stateDir = await fsp.mkdtemp(path.join(os.tmpdir(), 'ecoware-bench-jobs-'));
  const daemon = await startDaemon({ port: 0, stateDir, solverTimeLimitMs: 5000 });
  const api = async (method: string, url: string, body?: unknown) => {
    const res = await fetch(`${daemon.url}${url}`, { method, headers: { 'content-type': 'application/json' }, ...(body ? { body: JSON.stringify(body) } : {}) });
    return { status: res.status, body: await res.json() as any };
  };
  try {
    const topo = await api('PUT', '/api/topology', {
      infrastructure: { cloud_driver: { type: 'static', nodes: [{ name: 'n1', docker: DOCKER_HOST }] }, cpu_cores: CORES, mem_units: CORES * 2, mem_unit_mb: 32, reconcile_interval_s: 0 },
      apps: [],
    });
    if (topo.status !== 200) throw new Error(`topology: ${JSON.stringify(topo.body)}`);
    await api('PUT', '/api/job-templates/noop', { image: IMAGE, command: ['true'] });
    for (let i = 0; i < 100; i++) {
      if ((await api('GET', '/api/job-templates/noop')).body.status === 'ready') break;
      await new Promise((r) => setTimeout(r, 100));
    }
    const ids: string[] = [];
    const startedWallMs = Date.now();
    const started = process.hrtime.bigint();
    for (let i = 0; i < N; i++) ids.push((await api('POST', '/api/jobs', { template: 'noop' })).body.id);
    const dispatchMs = elapsedMs(started);
    for (const id of ids) await api('GET', `/api/jobs/${id}?wait=300`);
    const totalMs = elapsedMs(started);
    const waits: number[] = [];
    for (const id of ids) {
      const job = (await api('GET', `/api/jobs/${id}`)).body;
      if (job.status !== 'succeeded') throw new Error(`job ${id} ${job.status}: ${job.message ?? ''}`);
      waits.push(Date.parse(job.attempts[0].started_at) - startedWallMs);
    }
    return { totalMs, waits, dispatchPerS: N / (dispatchMs / 1000) };
  } finally {
    await daemon.close();
    await fsp.rm(stateDir, { recursive: true, force: true });
  }
}

/** The same containers with `docker run --rm`, CORES at a time, each pinned to one core. */
async function throughDockerRun(): Promise<{ totalMs: number; waits: number[] }> {
  const started = process.hrtime.bigint();
  const waits: number[] = [];
  let next = 0;
  const worker = async (core: number) => {
    for (;;) {
      const i = next++;
      if (i >= N) return;
      // All are submitted at the start; a `docker run` is running at the latest when it returns.
      await run('docker', ['-H', DOCKER_HOST, 'run', '--rm', `--cpuset-cpus=${core}`, '-m', '32m', IMAGE, 'true']);
      waits.push(elapsedMs(started));
    }
  };
  await Promise.all(Array.from({ length: CORES }, (_, core) => worker(core % os.cpus().length)));
  return { totalMs: elapsedMs(started), waits };
}

async function main(): Promise<void> {
  setLogLevel(process.env.ECOWARE_LOG_LEVEL ?? 'warn');
  const daemon = await throughDaemon();
  const docker = await throughDockerRun();
  const row = (name: string, r: { totalMs: number; waits: number[] }, extra: string) =>
    [name, formatMs(r.totalMs), formatMs(percentile(r.waits, 50)), formatMs(percentile(r.waits, 95)), extra];
  console.log(`\n${N} jobs of \`true\`, ${CORES} at a time, one engine (${DOCKER_HOST})\n`);
  console.log(markdownTable(['how', 'total', 'submit → running p50', 'p95', 'dispatches/s'], [
    row('daemon (POST /api/jobs)', daemon, daemon.dispatchPerS.toFixed(0)),
    row('docker run --rm', docker, '—'),
  ]));
  console.log('\nAll jobs are submitted at the start. For the daemon, running = the attempt\'s recorded start; for `docker run --rm`, when the command returned (an upper bound: it returns at the end).');
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});

import { promises as fsp } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import Docker from 'dockerode';
import { setLogLevel } from '../src/log';
import { startDaemon } from '../src/main';
import { callDaemon } from './support/daemon-client';
import { elapsedMs, formatMs, markdownTable, median } from './support/stats';

/**
 * `npm run bench:jobs-latency`: how long a cancel and a timeout take to end a job, on one node (the
 * engine at DOCKER_HOST, BENCH_JOBS_CORES cores, default 2) of a daemon started in-process.
 * BENCH_SAMPLES (default 20) samples each of:
 *
 * - a queued job's cancel: the node's cores are held by `sleep 300` jobs, one more is dispatched
 *   (queued), cancelled; time from the cancel request until `GET /api/jobs/:id` says `cancelled`.
 *   Each sample is checked to have no attempt and no container.
 * - a running job's cancel, for `sleep 300` as PID 1 (busybox ignores SIGTERM there: the kill after
 *   the grace ends it) and for a shell that traps TERM: time to `cancelled` and until the attempt's
 *   container is gone from the engine (inspect by name answers 404).
 * - a timeout's overshoot: templates with `timeout_s: 2`, the same two commands; overshoot = the
 *   attempt's ended_at − started_at − 2 s, as recorded.
 *
 * - the baseline: the same two commands in containers made directly on the engine (pinned to a
 *   core, same memory limit), timed from `docker stop -t 10` (Docker's stop with the daemon's grace)
 *   until the container is removed; the running-cancel rows are also given as a ratio to it.
 *
 * Running samples go CORES at a time (one per core), so a sample shares the machine with CORES − 1
 * others. The image is ECOWARE_TEST_IMAGE or ecoware/busybox:latest (scripts/ensure-docker.sh).
 */
const SAMPLES = Number(process.env.BENCH_SAMPLES ?? 20);
const CORES = Number(process.env.BENCH_JOBS_CORES ?? 2);
const IMAGE = process.env.ECOWARE_TEST_IMAGE ?? 'ecoware/busybox:latest';
const DOCKER_HOST = process.env.DOCKER_HOST ?? 'unix:///var/run/docker.sock';
const POLL_MS = 20;

const SLEEP = ['sleep', '300'];
const TRAP = ['/bin/sh', '-c', 'trap "exit 143" TERM; sleep 300 & wait'];

interface Job { id: string; status: string; attempts: { n: number; started_at?: string; ended_at?: string; reason?: string; container?: string }[] }

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function containerGone(docker: Docker, name: string): Promise<boolean> {
  try {
    await docker.getContainer(name).inspect();
    return false;
  } catch (err) {
    if ((err as { statusCode?: number }).statusCode === 404) return true;
    throw err;
  }
}

async function main(): Promise<void> {
  setLogLevel(process.env.ECOWARE_LOG_LEVEL ?? 'warn');
  const docker = new Docker();
  const stateDir = await fsp.mkdtemp(path.join(os.tmpdir(), 'ecoware-bench-jobs-latency-'));
  const daemon = await startDaemon({ port: 0, stateDir, solverTimeLimitMs: 5000 });
  const api = <T = any>(method: string, url: string, body?: unknown, status = 200) => callDaemon<T>(daemon.url, method, url, body, status);
  const job = (id: string) => api<Job>('GET', `/api/jobs/${id}`);
  const dispatch = async (template: string) => (await api<{ id: string }>('POST', '/api/jobs', { template }, 202)).id;
  const until = async (id: string, ok: (j: Job) => boolean, limitMs = 60_000): Promise<Job> => {
    const deadline = Date.now() + limitMs;
    for (;;) {
      const j = await job(id);
      if (ok(j)) return j;
      if (Date.now() > deadline) throw new Error(`job ${id} stayed ${j.status}`);
      await sleep(POLL_MS);
    }
  };
  const running = (id: string) => until(id, (j) => j.status === 'running');

  try {
    await api('PUT', '/api/topology', {
      infrastructure: { cloud_driver: { type: 'static', nodes: [{ name: 'n1', docker: DOCKER_HOST }] }, cpu_cores: CORES, mem_units: CORES * 2, mem_unit_mb: 32, reconcile_interval_s: 0 },
      apps: [],
    });
    const templates: Record<string, object> = {
      sleep: { image: IMAGE, command: SLEEP },
      trap: { image: IMAGE, command: TRAP },
      'sleep-t2': { image: IMAGE, command: SLEEP, timeout_s: 2 },
      'trap-t2': { image: IMAGE, command: TRAP, timeout_s: 2 },
    };
    for (const [name, body] of Object.entries(templates)) {
      const res = await fetch(`${daemon.url}/api/job-templates/${name}`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
      if (res.status !== 201) throw new Error(`template ${name}: ${res.status} ${await res.text()}`);
      for (let i = 0; ; i++) {
        const t = await api<{ status: string; reason?: string }>('GET', `/api/job-templates/${name}`);
        if (t.status === 'ready') break;
        if (t.status === 'rejected' || i > 300) throw new Error(`template ${name}: ${t.status} ${t.reason ?? ''}`);
        await sleep(100);
      }
    }

    // 1. Queued: every core held by a running sleep, then SAMPLES dispatch + cancel, one at a time.
    const fillers: string[] = [];
    for (let i = 0; i < CORES; i++) fillers.push(await dispatch('sleep'));
    for (const id of fillers) await running(id);
    const queuedCancel: number[] = [];
    for (let s = 0; s < SAMPLES; s++) {
      const id = await dispatch('sleep');
      const before = await job(id);
      if (before.status !== 'queued') throw new Error(`job ${id} is ${before.status}, not queued`);
      const started = process.hrtime.bigint();
      await api('POST', `/api/jobs/${id}/cancel`, undefined, 202);
      const ended = await until(id, (j) => j.status === 'cancelled', 30_000);
      queuedCancel.push(elapsedMs(started));
      if (ended.attempts.length !== 0) throw new Error(`queued job ${id} has attempts: ${JSON.stringify(ended.attempts)}`);
      if (!(await containerGone(docker, `ecoware-job-${id}-1`))) throw new Error(`queued job ${id} got a container`);
    }
    const tasksOfQueued = await docker.listContainers({ all: true, filters: { label: ['io.ecoware.task'] } });
    if (tasksOfQueued.length !== CORES) throw new Error(`${tasksOfQueued.length} task containers on the engine, expected the ${CORES} fillers`);
    for (const id of fillers) await api('POST', `/api/jobs/${id}/cancel`, undefined, 202);
    for (const id of fillers) await until(id, (j) => j.status === 'cancelled');

    // 2. Running: CORES at a time; cancel once running, time to `cancelled` and to the container gone.
    const runningCancel = async (template: string) => {
      const toCancelled: number[] = [];
      const toGone: number[] = [];
      const one = async () => {
        const id = await dispatch(template);
        await running(id);
        const name = `ecoware-job-${id}-1`;
        if (await containerGone(docker, name)) throw new Error(`running job ${id} has no container ${name}`);
        const started = process.hrtime.bigint();
        await api('POST', `/api/jobs/${id}/cancel`, undefined, 202);
        const gone = (async () => {
          while (!(await containerGone(docker, name))) await sleep(POLL_MS);
          return elapsedMs(started);
        })();
        await until(id, (j) => j.status === 'cancelled', 60_000);
        toCancelled.push(elapsedMs(started));
        toGone.push(await gone);
      };
      await inBatches(one);
      return { toCancelled, toGone };
    };
    const cancelSleep = await runningCancel('sleep');
    const cancelTrap = await runningCancel('trap');

    // 3. Timeout overshoot, from the attempt's own record.
    const overshoot = async (template: string) => {
      const values: number[] = [];
      await inBatches(async () => {
        const id = await dispatch(template);
        const ended = await until(id, (j) => !['queued', 'starting', 'running'].includes(j.status), 60_000);
        if (ended.status !== 'timed_out') throw new Error(`job ${id} ended ${ended.status}, not timed_out`);
        const a = ended.attempts[ended.attempts.length - 1];
        values.push(Date.parse(a.ended_at!) - Date.parse(a.started_at!) - 2000);
      });
      return values;
    };
    const timeoutSleep = await overshoot('sleep-t2');
    const timeoutTrap = await overshoot('trap-t2');

    // Baseline: docker stop -t 10 + remove of the same command, CORES at a time.
    const dockerStop = async (command: string[]) => {
      const values: number[] = [];
      let core = 0;
      await inBatches(async () => {
        const container = await docker.createContainer({
          Image: IMAGE, Cmd: command, Labels: { 'io.ecoware.bench': 'jobs-latency' },
          HostConfig: { CpusetCpus: String(core++ % Math.min(CORES, os.cpus().length)), Memory: 32 * 1024 * 1024 },
        });
        await container.start();
        await sleep(300);
        const started = process.hrtime.bigint();
        await container.stop({ t: 10 });
        await container.remove({ force: true });
        values.push(elapsedMs(started));
      });
      return values;
    };
    const stopSleep = await dockerStop(SLEEP);
    const stopTrap = await dockerStop(TRAP);

    const row = (what: string, values: number[], baseline?: number[]) => [what, formatMs(median(values)), formatMs(Math.max(...values)),
      baseline ? `${(median(values) / median(baseline)).toFixed(2)}×` : '—'];
    console.log(`\n${SAMPLES} samples each, one node of ${CORES} cores (${DOCKER_HOST}), running samples ${CORES} at a time\n`);
    console.log(markdownTable(['measurement', 'median', 'max', 'median ÷ docker stop median'], [
      row('queued job: cancel → `cancelled`', queuedCancel),
      row('running `sleep 300` (PID 1, ignores TERM): cancel → `cancelled`', cancelSleep.toCancelled),
      row('running `sleep 300`: cancel → container gone', cancelSleep.toGone, stopSleep),
      row('running TERM-trapping shell: cancel → `cancelled`', cancelTrap.toCancelled),
      row('running TERM-trapping shell: cancel → container gone', cancelTrap.toGone, stopTrap),
      row('`timeout_s: 2`, `sleep 300`: overshoot past 2 s', timeoutSleep),
      row('`timeout_s: 2`, TERM-trapping shell: overshoot past 2 s', timeoutTrap),
      row('baseline: `docker stop -t 10` + remove, `sleep 300`', stopSleep),
      row('baseline: `docker stop -t 10` + remove, TERM-trapping shell', stopTrap),
    ]));
    console.log(`\nPolled every ${POLL_MS} ms (job over HTTP, container by docker inspect). Queued samples: no attempt, no container (checked).`);
  } finally {
    for (const c of await docker.listContainers({ all: true, filters: { label: ['io.ecoware.bench=jobs-latency'] } })) {
      await docker.getContainer(c.Id).remove({ force: true });
    }
    await daemon.close();
    await fsp.rm(stateDir, { recursive: true, force: true });
  }
}

/** SAMPLES runs of `one`, CORES at a time. */
async function inBatches(one: () => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: CORES }, async () => {
    while (next++ < SAMPLES) await one();
  }));
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});

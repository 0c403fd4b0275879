import { execFile } from 'node:child_process';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { dockerClient } from '../dev/local-cloud/dockerd-engine';
import { DockerContainerRuntime } from '../src/drivers/docker/docker-container-runtime';
import { runtimesByEngine } from '../src/drivers/runtime-drivers';
import { Vm } from '../src/domain/vm';
import { RuntimeTasks } from '../src/ports/container-runtime';
import { JobImages } from '../src/use-cases/jobs/job-images';
import { startEngine, TestEngine } from '../test/support/engines';
import { ensureDocker } from './support/ensure-docker';
import { elapsedMs, formatMs, markdownTable, median, percentile } from './support/stats';

const execFileAsync = promisify(execFile);

/**
 * `npm run bench:tasks`: short tasks through the runtime port's `tasks` (start, wait, read the
 * output, remove: what a job's attempt costs) against the same tasks through `docker run --rm`, on
 * one fresh engine, with the same parallelism, cores and memory limit; then the copy of an image
 * between two engines (save on one streamed into load on the other, JobImages.ensureOn) against the
 * CLI's `docker save | docker load`.
 *
 * Start latency is from the ask to the moment the process inside runs: each task prints the wall
 * clock (busybox `adjtimex`), read on the same machine's clock.
 *
 *   BENCH_TASKS=200        tasks of each
 *   BENCH_PARALLEL=4       at once
 *   BENCH_COPIES=5         image copies of each
 */
const TASKS = Number(process.env.BENCH_TASKS ?? 200);
const PARALLEL = Number(process.env.BENCH_PARALLEL ?? 4);
const COPIES = Number(process.env.BENCH_COPIES ?? 5);
const CLOCK = ['adjtimex'];

interface Run { totalMs: number; startLatencies: number[] }

async function main(): Promise<void> {
  ensureDocker(path.resolve(__dirname, '..', '..'));
  const image = process.env.ECOWARE_TEST_IMAGE ?? 'ecoware/busybox:latest';
  const engines = await Promise.all([startEngine(41), startEngine(42)]);
  try {
    const [a, b] = engines;
    const cpus = (await dockerClient(a.address, 2375).info()).NCPU as number;
    const tasks = new DockerContainerRuntime({ url: a.endpoint }).tasks;
    // One unmeasured round of each warms the engine.
    await viaPort(tasks, image, PARALLEL, PARALLEL, cpus);
    await viaCli(a, image, PARALLEL, PARALLEL, cpus);
    const port = await viaPort(tasks, image, TASKS, PARALLEL, cpus);
    const cli = await viaCli(a, image, TASKS, PARALLEL, cpus);
    const copy = await copies(a, b, image);

    console.log(`\n${TASKS} tasks (\`${CLOCK.join(' ')}\`), ${PARALLEL} at once, on one engine (${cpus} cores), cpuset of one core, 32 MiB\n`);
    console.log(markdownTable(['how', 'total', 'tasks/s', 'start latency p50', 'p95'], [
      row('tasks.start + wait + logs + remove', port),
      row('docker run --rm (CLI)', cli),
    ]));
    console.log(`\nCopy of ${image} between two engines, ${COPIES} times (target without the image each time)\n`);
    console.log(markdownTable(['how', 'p50', 'min', 'max'], [
      ['JobImages.ensureOn (save streamed into load)', formatMs(median(copy.ours)), formatMs(Math.min(...copy.ours)), formatMs(Math.max(...copy.ours))],
      ['docker save \\| docker load (CLI)', formatMs(median(copy.cli)), formatMs(Math.min(...copy.cli)), formatMs(Math.max(...copy.cli))],
    ]));
  } finally {
    await Promise.all(engines.map((e) => e.stop()));
  }
}

function row(how: string, run: Run): string[] {
  return [how, formatMs(run.totalMs), (TASKS / (run.totalMs / 1000)).toFixed(1), formatMs(percentile(run.startLatencies, 50)), formatMs(percentile(run.startLatencies, 95))];
}

async function viaPort(tasks: RuntimeTasks, image: string, count: number, parallel: number, cpus: number): Promise<Run> {
  return measure(count, parallel, async (i) => {
    const asked = Date.now();
    const task = await tasks.start({ name: `bench-task-${process.pid}-${i}`, image, argv: CLOCK, env: {}, cpuset: [i % cpus], memoryMb: 32, labels: { 'io.ecoware.bench': 'tasks' } });
    const ended = await tasks.wait(task.id);
    if (ended.exitCode !== 0) throw new Error(`task ${i} exited with ${ended.exitCode}`);
    let stdout = '';
    await tasks.logs(task.id, { follow: false, onChunk: (stream, data) => { if (stream === 'stdout') stdout += data.toString(); } });
    await tasks.remove(task.id);
    return clockOf(stdout) - asked;
  });
}

async function viaCli(engine: TestEngine, image: string, count: number, parallel: number, cpus: number): Promise<Run> {
  return measure(count, parallel, async (i) => {
    const asked = Date.now();
    const { stdout } = await execFileAsync('docker', [
      '-H', engine.endpoint, 'run', '--rm', '--cpuset-cpus', String(i % cpus), '-m', '32m', '--memory-swap', '32m', image, ...CLOCK,
    ]);
    return clockOf(stdout) - asked;
  });
}

/** Runs `count` jobs, `parallel` at once; each answers its start latency. */
async function measure(count: number, parallel: number, one: (i: number) => Promise<number>): Promise<Run> {
  const startLatencies: number[] = [];
  let next = 0;
  const started = process.hrtime.bigint();
  await Promise.all(Array.from({ length: parallel }, async () => {
    while (next < count) startLatencies.push(await one(next++));
  }));
  return { totalMs: elapsedMs(started), startLatencies };
}

/** busybox `adjtimex` prints the wall clock as tv_sec and tv_usec (nanoseconds when the kernel keeps STA_NANO). */
function clockOf(output: string): number {
  const sec = Number(/time\.tv_sec:\s*(\d+)/.exec(output)?.[1]);
  const frac = Number(/time\.tv_usec:\s*(\d+)/.exec(output)?.[1]);
  if (!Number.isFinite(sec) || !Number.isFinite(frac)) throw new Error(`no clock in the task's output: ${output}`);
  return sec * 1000 + (frac > 999_999 ? frac / 1e6 : frac / 1e3);
}

async function copies(a: TestEngine, b: TestEngine, image: string): Promise<{ ours: number[]; cli: number[] }> {
  const [nodeA, nodeB] = [a, b].map((e, i): Vm => ({ name: `n${i + 1}`, capacity: { cpu_cores: 2, mem_units: 4 }, engine: { kind: 'docker', url: e.endpoint } }));
  const images = new JobImages(runtimesByEngine());
  const target = dockerClient(b.address, 2375);
  const ours: number[] = [];
  const cli: number[] = [];
  for (let round = 0; round < COPIES; round++) {
    await target.getImage(image).remove({ force: true }).catch(() => undefined);
    let started = process.hrtime.bigint();
    if ((await images.ensureOn(image, nodeB, [nodeA])) !== 'copied') throw new Error('the image was not copied');
    ours.push(elapsedMs(started));
    await target.getImage(image).remove({ force: true });
    started = process.hrtime.bigint();
    await execFileAsync('sh', ['-c', `docker -H ${a.endpoint} save ${image} | docker -H ${b.endpoint} load -q`]);
    cli.push(elapsedMs(started));
    await target.getImage(image).inspect();
  }
  return { ours, cli };
}

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});

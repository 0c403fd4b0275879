import { promises as fsp } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import Docker from 'dockerode';
import { dockerClient } from '../dev/local-cloud/dockerd-engine';
import { LocalCloud, startLocalCloud } from '../dev/local-cloud/local-cloud';
import { setLogLevel } from '../src/log';
import { startDaemon } from '../src/main';
import { callDaemon } from './support/daemon-client';
import { formatMs, markdownTable, median } from './support/stats';

/**
 * `npm run bench:jobs-scale`: the fleet growing from a pool too small for a job, on the local cloud
 * (dev/local-cloud: Auto Scaling + EC2 whose instances are real dockerd engines; needs root), with
 * the daemon's AWS driver on the real SDK clients. One instance holds a tier on both its cores; a
 * template asks for 2 cores; each of BENCH_SCALE_RUNS (default 3) runs dispatches one job
 * (`sleep 1`) and times, from the dispatch:
 *
 *   `scale` execution listed → instance InService in the cloud → node ready in GET /api/nodes →
 *   image on the new engine → job running → job succeeded → instance gone (`scale_in_idle_s` after)
 *
 * The instances are launched without images: the first one is given the image by the benchmark (as
 * the template needs a node that has it), a new one gets it copied by the daemon before the job
 * starts. The fleet loop runs at its default period (5 s); BENCH_SCALE_BOOT_MS (default 1000) is the
 * cloud's boot delay on top of the engine's own start; scale_in_idle_s is BENCH_SCALE_IDLE_S (5).
 */
const RUNS = Number(process.env.BENCH_SCALE_RUNS ?? 3);
const BOOT_MS = Number(process.env.BENCH_SCALE_BOOT_MS ?? 1000);
const IDLE_S = Number(process.env.BENCH_SCALE_IDLE_S ?? 5);
const IMAGE = process.env.ECOWARE_TEST_IMAGE ?? 'ecoware/busybox:latest';
const GROUP = 'ecoware-bench-scale';
const ACCESS_KEY = 'AKIDECOWAREBENCH';
const POLL_MS = 50;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function hasImage(docker: Docker): Promise<boolean> {
  try {
    await docker.getImage(IMAGE).inspect();
    return true;
  } catch {
    return false;
  }
}

const LEGS = ['scale execution listed', 'instance InService', 'node ready', 'image on the node', 'job running', 'job succeeded', 'instance released'] as const;
type Leg = typeof LEGS[number];

async function main(): Promise<void> {
  setLogLevel(process.env.ECOWARE_LOG_LEVEL ?? 'warn');
  const dir = await fsp.mkdtemp(path.join(os.tmpdir(), 'ecoware-bench-scale-'));
  const credentials = path.join(dir, 'credentials.conf');
  await fsp.writeFile(credentials, `AWS_ACCESS_KEY_ID=${ACCESS_KEY}\nAWS_SECRET_ACCESS_KEY=not-a-secret\n`);
  let cloud: LocalCloud | undefined;
  let daemon: Awaited<ReturnType<typeof startDaemon>> | undefined;
  try {
    cloud = await startLocalCloud({ accessKeyId: ACCESS_KEY, bootDelayMs: BOOT_MS, images: [], groups: [{ name: GROUP, minSize: 0, maxSize: 3, desiredCapacity: 1 }] });
    const c = cloud;
    while (!c.group(GROUP).instances.some((i) => i.lifecycleState === 'InService')) await sleep(100);
    const [first] = c.group(GROUP).instances;
    // The first instance gets the image from the local engine (`docker save | docker load`).
    const source = new Docker();
    await dockerClient(first.address!, 2375).loadImage(await source.getImage(IMAGE).get() as NodeJS.ReadableStream);

    daemon = await startDaemon({ port: 0, stateDir: path.join(dir, 'state'), solverTimeLimitMs: 5000 });
    const url = daemon.url;
    const api = <T = any>(method: string, p: string, body?: unknown, status = 200) => callDaemon<T>(url, method, p, body, status);
    await api('PUT', '/api/topology', {
      infrastructure: {
        cloud_driver: { autoscaling_groupname: GROUP, region: 'local-1', endpoint: c.endpoint, credentials, instance_ready_timeout_s: 120 },
        cpu_cores: 2, mem_units: 4, mem_unit_mb: 32, scale_in_idle_s: IDLE_S,
      },
      apps: [{ name: 'bench', tiers: { web: { docker_image: IMAGE, entrypoint_params: 'sleep 100000' } } }],
    });
    const plan = await api<{ status: string }>('PUT', '/api/execute', { bench: { web: { cpu_cores: 2, mem_units: 2 } } });
    if (plan.status !== 'succeeded') throw new Error(`plan: ${JSON.stringify(plan)}`);
    await api('PUT', '/api/job-templates/wide', { image: IMAGE, command: ['sleep', '1'], cpu_cores: 2, mem_units: 2 }, 201);
    for (let i = 0; ; i++) {
      const t = await api<{ status: string; reason?: string }>('GET', '/api/job-templates/wide');
      if (t.status === 'ready') break;
      if (t.status === 'rejected' || i > 600) throw new Error(`template: ${t.status} ${t.reason ?? ''}`);
      await sleep(100);
    }

    const runs: Record<Leg, number>[] = [];
    for (let r = 0; r < RUNS; r++) {
      const before = new Set((await api<{ objects: { id: string }[] }>('GET', '/api/executions?kind=scale')).objects.map((e) => e.id));
      const t0 = Date.now();
      const { id } = await api<{ id: string }>('POST', '/api/jobs', { template: 'wide' }, 202);
      const at: Partial<Record<Leg, number>> = {};
      let instanceId: string | undefined;
      while (at['job succeeded'] === undefined) {
        if (Date.now() - t0 > 300_000) throw new Error(`run ${r + 1}: stuck after ${JSON.stringify(at)}`);
        const now = () => Date.now() - t0;
        if (at['scale execution listed'] === undefined) {
          const { objects } = await api<{ objects: { id: string }[] }>('GET', '/api/executions?kind=scale');
          if (objects.some((e) => !before.has(e.id))) at['scale execution listed'] = now();
        }
        const added = c.group(GROUP).instances.find((i) => i.instanceId !== first.instanceId);
        if (added) instanceId = added.instanceId;
        if (at['instance InService'] === undefined && added?.lifecycleState === 'InService') at['instance InService'] = now();
        if (instanceId && at['node ready'] === undefined) {
          const nodes = await api<{ instance_id?: string; name: string; health: string }[]>('GET', '/api/nodes');
          if (nodes.some((n) => (n.instance_id === instanceId || n.name === instanceId) && n.health === 'ready')) at['node ready'] = now();
        }
        if (added?.address && at['image on the node'] === undefined && (await hasImage(dockerClient(added.address, 2375)))) at['image on the node'] = now();
        const job = await api<{ status: string; attempts: { node: string }[]; message?: string }>('GET', `/api/jobs/${id}`);
        if (at['job running'] === undefined && (job.status === 'running' || job.status === 'succeeded')) at['job running'] = now();
        if (job.status === 'succeeded') at['job succeeded'] = now();
        else if (!['queued', 'starting', 'running'].includes(job.status)) throw new Error(`run ${r + 1}: job ${job.status} ${job.message ?? ''}`);
        if (job.attempts[0] && instanceId && job.attempts[0].node !== instanceId) throw new Error(`run ${r + 1}: job ran on ${job.attempts[0].node}, not the new ${instanceId}`);
        await sleep(POLL_MS);
      }
      while (c.group(GROUP).instances.some((i) => i.instanceId === instanceId)) {
        if (Date.now() - t0 > 300_000) throw new Error(`run ${r + 1}: ${instanceId} never released`);
        await sleep(POLL_MS);
      }
      at['instance released'] = Date.now() - t0;
      for (const leg of LEGS) if (at[leg] === undefined) throw new Error(`run ${r + 1}: no time for ${leg}: ${JSON.stringify(at)}`);
      runs.push(at as Record<Leg, number>);
      console.error(`run ${r + 1}: ${JSON.stringify(at)}`);
      await c.settled();
    }

    console.log(`\n${RUNS} run(s); local cloud boot delay ${BOOT_MS} ms, scale_in_idle_s ${IDLE_S}, fleet loop 5 s; times from the dispatch, and each leg since the previous mark\n`);
    console.log(markdownTable(['mark', 'since dispatch (median)', 'max', 'leg (median)', 'leg max'], LEGS.map((leg, i) => {
      const since = runs.map((x) => x[leg]);
      const legs = runs.map((x) => x[leg] - (i === 0 ? 0 : x[LEGS[i - 1]]));
      return [leg, formatMs(median(since)), formatMs(Math.max(...since)), formatMs(median(legs)), formatMs(Math.max(...legs))];
    })));
  } finally {
    await daemon?.close();
    await cloud?.close();
    await fsp.rm(dir, { recursive: true, force: true });
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});

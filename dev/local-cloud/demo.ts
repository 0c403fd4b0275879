import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startDaemon } from '../../src/main';
import { startLocalCloud } from './local-cloud';
import { numericOptions } from './numeric-options';

/**
 * The fleet growing and shrinking on one machine: the local cloud, the daemon pointed at it, and
 * three plans (fits one VM, needs a second VM, fits one VM again), each shown with its actions, the
 * allocation, what the engines report and the group's state.
 *
 *   scripts/local-cloud.sh --demo [--boot-delay-ms 3000]     (DEMO_KEEP=1 keeps everything running)
 */
const options = numericOptions({ 'boot-delay-ms': 3000, port: 0 }, 'usage: scripts/local-cloud.sh --demo [--boot-delay-ms N] [--port N]');

async function main(): Promise<void> {
  const bootDelayMs = options['boot-delay-ms'];
  const group = 'ecoware-demo';
  const image = process.env.ECOWARE_TEST_IMAGE ?? 'ecoware/busybox:latest';
  // The local cloud accepts any signature; the SDK still wants credentials to sign with.
  process.env.AWS_ACCESS_KEY_ID ??= 'AKIDLOCALDEMO';
  process.env.AWS_SECRET_ACCESS_KEY ??= 'local';

  const dir = await mkdtemp(join(tmpdir(), 'ecoware-demo-aws-'));
  console.log(`starting the local cloud: group '${group}' with 1 instance, boot delay ${bootDelayMs} ms`);
  const cloud = await startLocalCloud({
    bootDelayMs, groups: [{ name: group, minSize: 0, maxSize: 3, desiredCapacity: 1 }],
    log: (line) => console.log(`  [cloud] ${line}`),
  });
  const daemon = await startDaemon({ port: options.port, stateDir: join(dir, 'state'), solverTimeLimitMs: 5_000 });
  console.log(`local cloud at ${cloud.endpoint}, daemon at ${daemon.url}`);

  const call = async (method: string, path: string, body?: unknown) => {
    const res = await fetch(`${daemon.url}${path}`, {
      method, headers: { 'content-type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: res.status, body: await res.json() as Record<string, any> };
  };
  const showGroup = () => {
    const g = cloud.group(group);
    console.log(`group: desired capacity ${g.desiredCapacity}; ${g.instances.map((i) => `${i.instanceId} ${i.lifecycleState} ${i.address ?? ''}`).join(', ')}`);
  };
  const showEngines = async () => {
    const inspect = (await call('GET', '/api/inspect')).body as Record<string, { ip?: string; containers: Array<{ name: string; CpusetCpus: string; Memory: number }> }>;
    for (const [vm, report] of Object.entries(inspect)) {
      const containers = report.containers.map((c) => `${c.name} cpuset=${c.CpusetCpus} memory=${c.Memory / 1024 / 1024}MiB`);
      console.log(`  engine of ${vm} (${report.ip}): ${containers.join('; ') || 'no containers'}`);
    }
  };

  try {
    const topology = {
      infrastructure: {
        cloud_driver: { autoscaling_groupname: group, region: cloud.region, endpoint: cloud.endpoint, instance_ready_timeout_s: 60 },
        cpu_cores: 2, mem_units: 4, mem_unit_mb: 64,
      },
      apps: [{ name: 'shop', tiers: { web: { docker_image: image, depends_on: ['db'] }, db: { max_node: 1, docker_image: image } } }],
    };
    const loaded = await call('PUT', '/api/topology', topology);
    if (loaded.status !== 200) throw new Error(`topology refused: ${JSON.stringify(loaded.body)}`);
    showGroup();

    const plans: Array<[string, Record<string, unknown>]> = [
      ['a plan that fits one VM', { shop: { web: { cpu_cores: 1, mem_units: 1 }, db: { cpu_cores: 1, mem_units: 1 } } }],
      ['a plan that needs a second VM', { shop: { web: { cpu_cores: 3, mem_units: 3 } } }],
      ['a smaller plan that empties a VM', { shop: { web: { cpu_cores: 1, mem_units: 2 } } }],
    ];
    for (const [title, plan] of plans) {
      console.log(`\n== ${title}: PUT /api/execute ${JSON.stringify(plan)}`);
      const startedAt = Date.now();
      const res = await call('PUT', '/api/execute', plan);
      console.log(`${res.status} ${res.body.status} in ${Date.now() - startedAt} ms ${JSON.stringify(res.body.timings_ms)}`);
      for (const layer of res.body.actions ?? []) console.log(`  ${(layer as string[]).join(' | ')}`);
      if (res.body.error) console.log(`  error: ${res.body.error}`);
      console.log(`allocation: ${JSON.stringify((await call('GET', '/api/allocation')).body)}`);
      await showEngines();
      await cloud.settled();
      showGroup();
    }

    if (process.env.DEMO_KEEP === '1') {
      console.log(`\nDEMO_KEEP=1: daemon at ${daemon.url}, local cloud at ${cloud.endpoint}; Ctrl-C to stop`);
      await new Promise<void>((resolve) => { process.once('SIGINT', () => resolve()); process.once('SIGTERM', () => resolve()); });
    }
  } finally {
    await daemon.close();
    await cloud.close();
    await rm(dir, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : String(err));
  process.exit(1);
});

import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AwsCloudDriver } from '../../src/drivers/aws/aws-cloud-driver';
import { runtimesByEngine } from '../../src/drivers/runtime-drivers';
import { startDaemon } from '../../src/main';
import { startLocalCloud } from './local-cloud';
import { numericOptions } from './numeric-options';

/**
 * How long growing the fleet takes on the local cloud, and how much of it is the executor's own
 * doing rather than the instance's boot delay:
 *
 *   driver: SetDesiredCapacity -> createVms resolved (instance InService, address, engine answers)
 *   daemon: PUT /api/execute of a plan needing a second VM -> answered (VM created, containers running)
 *
 *   scripts/local-cloud.sh --measure [--rounds 5] [--boot-delay-ms 2000]
 */
interface Row { [column: string]: number }

const options = numericOptions({ rounds: 5, 'boot-delay-ms': 2000 }, 'usage: scripts/local-cloud.sh --measure [--rounds N] [--boot-delay-ms N]');

function table(title: string, rows: Row[]): void {
  const columns = Object.keys(rows[0]);
  const width = Math.max(...columns.map((c) => c.length)) + 2;
  console.log(`\n${title}`);
  console.log(['round', ...columns].map((c, i) => (i === 0 ? c.padEnd(7) : c.padStart(width))).join(''));
  rows.forEach((r, n) => console.log([String(n + 1).padEnd(7), ...columns.map((c) => String(Math.round(r[c])).padStart(width))].join('')));
  const median = (c: string) => [...rows.map((r) => r[c])].sort((a, b) => a - b)[Math.floor(rows.length / 2)];
  console.log(['median'.padEnd(7), ...columns.map((c) => String(Math.round(median(c))).padStart(width))].join(''));
}

async function main(): Promise<void> {
  const rounds = options.rounds;
  const bootDelayMs = options['boot-delay-ms'];
  const group = `ecoware-measure-${process.pid}`;
  const dir = await mkdtemp(join(tmpdir(), 'ecoware-measure-'));
  const cloud = await startLocalCloud({ bootDelayMs, groups: [{ name: group, minSize: 0, maxSize: 3, desiredCapacity: 1 }] });
  process.env.AWS_ACCESS_KEY_ID ??= 'AKIDLOCAL';
  process.env.AWS_SECRET_ACCESS_KEY ??= 'local';
  try {
    console.log(`boot delay ${bootDelayMs} ms, ${rounds} rounds, times in ms`);
    const driver = new AwsCloudDriver({
      type: 'aws', autoscalingGroupName: group, region: cloud.region, endpoint: cloud.endpoint, addressType: 'private',
      dockerPort: 2375, allowRaiseMaxSize: false, instanceReadyTimeoutMs: 60_000,
    }, { cpu_cores: 2, mem_units: 4 }, runtimesByEngine());

    const driverRows: Row[] = [];
    for (let round = 0; round < rounds; round++) {
      const mark = cloud.requests.length;
      const [vm] = await driver.createVms(1);
      const resolvedAt = Date.now();
      const setAt = cloud.requests.slice(mark).find((r) => r.action === 'SetDesiredCapacity')!.atMs;
      const instance = cloud.instance(vm.name)!;
      driverRows.push({
        'set->usable': resolvedAt - setAt,
        'launch->InService': instance.inServiceAt! - instance.launchedAt,
        'InService->usable': resolvedAt - instance.inServiceAt!,
        'beyond boot delay': resolvedAt - setAt - bootDelayMs,
      });
      await driver.deleteVm(vm);
      await cloud.settled();
    }
    table('driver: SetDesiredCapacity to a usable instance', driverRows);

    const app = 'measure';
    const image = process.env.ECOWARE_TEST_IMAGE ?? 'ecoware/busybox:latest';
    const daemon = await startDaemon({ port: 0, stateDir: join(dir, 'state'), solverTimeLimitMs: 5_000 });
    const call = async (method: string, path: string, body: unknown) => {
      const res = await fetch(`${daemon.url}${path}`, { method, headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
      const json = await res.json() as Record<string, any>;
      if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${JSON.stringify(json)}`);
      return json;
    };
    try {
      await call('PUT', '/api/topology', {
        infrastructure: {
          cloud_driver: { autoscaling_groupname: group, region: cloud.region, endpoint: cloud.endpoint },
          cpu_cores: 2, mem_units: 4, mem_unit_mb: 32,
        },
        apps: [{ name: app, tiers: { web: { docker_image: image, depends_on: ['db'] }, db: { max_node: 1, docker_image: image } } }],
      });
      const plan = (webCores: number) => ({ [app]: { web: { cpu_cores: webCores, mem_units: webCores }, db: { cpu_cores: 1, mem_units: 1 } } });
      await call('PUT', '/api/execute', plan(1));
      const daemonRows: Row[] = [];
      for (let round = 0; round < rounds; round++) {
        const startedAt = Date.now();
        const grown = await call('PUT', '/api/execute', plan(3));
        const answeredAt = Date.now();
        const records = (grown.steps as Array<Array<{ action: { type: string }; duration_ms: number; finished_at: string }>>).flat();
        const createVm = records.find((r) => r.action.type === 'create_vm')!;
        daemonRows.push({
          'plan->running': answeredAt - startedAt,
          create_vm: createVm.duration_ms,
          'after create_vm': answeredAt - Date.parse(createVm.finished_at),
          'beyond boot delay': answeredAt - startedAt - bootDelayMs,
        });
        await call('PUT', '/api/execute', plan(1));
        await cloud.settled();
      }
      table('daemon: PUT /api/execute needing a new VM to containers running on it', daemonRows);
    } finally {
      await daemon.close();
    }
  } finally {
    await cloud.close();
    await rm(dir, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.stack : String(err));
  process.exit(1);
});

import Docker from 'dockerode';
import { runtimesByEngine } from '../src/drivers/runtime-drivers';
import { findDrift } from '../src/domain/drift';
import { parseTopology } from '../src/schema/topology-file';
import { Cluster } from '../src/domain/cluster';
import { LABEL_APP, LABEL_FLAT_TIER, LABEL_MANAGED, LABEL_TIER, LABEL_VM } from '../src/drivers/docker/labels';
import { observeEngines } from '../src/use-cases/nodes/reconcile';
import { refreshCluster } from '../src/use-cases/cluster/refresh-cluster';
import { startEnginePool } from './support/engine-pool';
import { elapsedMs, median } from './support/stats';

/**
 * Cost of one drift-repair comparison (SPEC §8) and of the cheap per-plan refresh, against real
 * engines: `ENGINES` private dockerd engines (default 10) with `PER_ENGINE` managed containers each
 * (default 10: 100 in all), created directly on the engines with the executor's labels. A pass reads
 * every engine in full (one list, one inspect per container, engines in parallel) and compares;
 * the refresh is one list per engine. Prints the median and the maximum of `ROUNDS` passes (default 10).
 *
 *   npx tsc -p bench/tsconfig.json && ENGINES=10 PER_ENGINE=10 node dist-bench/bench/reconcile-bench.js
 */
async function main(): Promise<void> {
  const engines = Number(process.env.ENGINES ?? 10);
  const perEngine = Number(process.env.PER_ENGINE ?? 10);
  const rounds = Number(process.env.ROUNDS ?? 10);
  const image = process.env.ECOWARE_TEST_IMAGE ?? 'ecoware/busybox:latest';
  const log = (line: string) => console.error(`[${new Date().toISOString().slice(11, 19)}] ${line}`);
  const pool = await startEnginePool(engines, log);
  try {
    const app = 'bench';
    const tiers = Array.from({ length: perEngine }, (_, i) => `t${i}`);
    const topology = parseTopology({
      infrastructure: {
        cloud_driver: { type: 'static', nodes: pool.engines.map((e, i) => ({ name: `n${i}`, docker: e.endpoint })) },
        cpu_cores: 2, mem_units: 64, mem_unit_mb: 8,
      },
      apps: [{ name: app, tiers: Object.fromEntries(tiers.map((t) => [t, { docker_image: image }])) }],
    });
    await Promise.all(pool.engines.map(async (e, n) => {
      const u = new URL(e.endpoint.replace('tcp:', 'http:'));
      const docker = new Docker({ host: u.hostname, port: Number(u.port) });
      for (const [i, tier] of tiers.entries()) {
        const c = await docker.createContainer({
          name: `${app}_${tier}`, Image: image,
          Labels: { [LABEL_MANAGED]: 'true', [LABEL_APP]: app, [LABEL_TIER]: tier, [LABEL_FLAT_TIER]: `${app}_${tier}`, [LABEL_VM]: `n${n}` },
          HostConfig: { CpusetCpus: String(i % 2), Memory: 8 * 1024 * 1024, MemorySwap: 8 * 1024 * 1024 },
        });
        await c.start();
      }
    }));
    log(`${engines * perEngine} containers running`);

    const runtimeFor = runtimesByEngine();
    const empty: Cluster = Object.fromEntries(pool.engines.map((e, i) => [`n${i}`, {
      vm: { name: `n${i}`, capacity: { cpu_cores: 2, mem_units: 64 }, engine: { kind: 'docker' as const, url: e.endpoint } }, containers: {},
    }]));
    const deployment = { topology, cluster: empty, cloud: undefined as never };
    const record = (await observeEngines(deployment, { runtimeFor }, new Set())).observed;
    const known = { ...deployment, cluster: record };

    const pass: number[] = [];
    const refresh: number[] = [];
    for (let r = 0; r < rounds; r++) {
      let t = process.hrtime.bigint();
      const { observed, unanswered } = await observeEngines(known, { runtimeFor }, new Set());
      const drift = findDrift(record, observed, 8, unanswered);
      pass.push(elapsedMs(t));
      if (drift.length !== 0) throw new Error(`unexpected drift: ${JSON.stringify(drift[0])}`);
      t = process.hrtime.bigint();
      await refreshCluster(record, runtimeFor, 8, new Set(topology.tiers.keys()));
      refresh.push(elapsedMs(t));
    }
    const stat = (xs: number[]) => `median ${median(xs).toFixed(1)} ms, max ${Math.max(...xs).toFixed(1)} ms`;
    console.log(`| engines | containers | reconcile pass (full read + compare) | per-plan refresh (one list per engine) |`);
    console.log(`|---|---|---|---|`);
    console.log(`| ${engines} | ${engines * perEngine} | ${stat(pass)} | ${stat(refresh)} |`);
  } finally {
    await pool.stop();
  }
}

void main().catch((e) => { console.error(e); process.exitCode = 1; });

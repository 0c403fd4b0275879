import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Docker from 'dockerode';
import { startDaemon } from '../src/main';
import { LABEL_APP } from '../src/drivers/docker/labels';
import { callDaemon } from './support/daemon-client';

export interface PlannerBenchOptions {
  /** Plans the planner sends, one per control period. */
  plans: number;
  periodMs: number;
  /** How long the tier's hook runs after each resize: longer than the period, so plans pile up. */
  hookSeconds: number;
  log: (line: string) => void;
}

interface Outcome {
  coalesce: boolean;
  pendingAtLastPlan: number;
  drainMs: number;
  ran: number;
  superseded: number;
  finalIsLastPlan: boolean;
}

/**
 * The ecoware-core planner with `?wait=false` and a hook slower than its control period: one flat
 * plan per period on POST /api/executor, each resizing a tier whose hook then runs for a while. With
 * coalescing (the default) only the newest waiting plan runs after the running one; with
 * `?coalesce=false` every plan runs in turn, as before. Runs against the engine at DOCKER_HOST.
 */
export async function runPlannerBench(options: PlannerBenchOptions): Promise<string> {
  const rows: Outcome[] = [];
  for (const coalesce of [true, false]) rows.push(await runOnce(coalesce, options));
  return [
    `${options.plans} plans, one every ${options.periodMs} ms, each followed by a ${options.hookSeconds} s hook.`,
    '',
    '| coalescing | plans waiting when the last was sent | time from the last plan to an idle queue | executions run | superseded | final state = last plan |',
    '|---|---|---|---|---|---|',
    ...rows.map((r) => `| ${r.coalesce ? 'on (default)' : 'off (`?coalesce=false`)'} | ${r.pendingAtLastPlan} | ${(r.drainMs / 1000).toFixed(1)} s | ${r.ran} | ${r.superseded} | ${r.finalIsLastPlan ? 'yes' : 'NO'} |`),
  ].join('\n');
}

async function runOnce(coalesce: boolean, options: PlannerBenchOptions): Promise<Outcome> {
  const app = `plannerbench${process.pid}`;
  const docker = new Docker();
  const removeContainers = async () => {
    const list = await docker.listContainers({ all: true, filters: { label: [`${LABEL_APP}=${app}`] } });
    await Promise.all(list.map((c) => docker.getContainer(c.Id).remove({ force: true })));
  };
  await removeContainers();
  const stateDir = await mkdtemp(join(tmpdir(), 'ecoware-planner-bench-'));
  const daemon = await startDaemon({ port: 0, stateDir, localDocker: process.env.DOCKER_HOST, solverTimeLimitMs: 5_000 });
  const call = (method: string, route: string, body?: unknown, expectedStatus = 200) => callDaemon<any>(daemon.url, method, route, body, expectedStatus);
  try {
    await call('PUT', '/api/topology', {
      infrastructure: { cloud_driver: { type: 'static', nodes: [{ name: 'local', docker: process.env.DOCKER_HOST }] }, cpu_cores: 1, mem_units: 16, mem_unit_mb: 16 },
      apps: [{ name: app, tiers: { web: { docker_image: process.env.ECOWARE_TEST_IMAGE ?? 'ecoware/busybox:latest', on_node_scale: { exec: '/bin/sleep', argv: [String(options.hookSeconds)] } } } }],
    });
    const query = coalesce ? '?wait=false' : '?wait=false&coalesce=false';
    const ids: string[] = [];
    let lastMemUnits = 0;
    for (let i = 0; i < options.plans; i++) {
      lastMemUnits = 1 + (i % 8);
      // The planner's names and doubles.
      ids.push((await call('POST', `/api/executor${query}`, { [`${app}-web`]: { cpu_cores: 1.0, mem_units: lastMemUnits } }, 202)).execution_id);
      if (i < options.plans - 1) await new Promise((r) => setTimeout(r, options.periodMs));
    }
    const lastSent = Date.now();
    const statuses = async () => Promise.all(ids.map(async (id) => (await call('GET', `/api/executions/${id}`)).status as string));
    const pendingAtLastPlan = (await statuses()).filter((s) => s === 'queued').length;
    let finished: string[];
    for (;;) {
      finished = await statuses();
      if (finished.every((s) => ['succeeded', 'failed', 'cancelled', 'superseded'].includes(s))) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    const drainMs = Date.now() - lastSent;
    const used = (await call('GET', '/api/allocation')).local.used[`${app}_web`];
    options.log(`planner bench, coalescing ${coalesce}: ${finished.join(' ')}`);
    return {
      coalesce,
      pendingAtLastPlan,
      drainMs,
      ran: finished.filter((s) => s === 'succeeded' || s === 'failed').length,
      superseded: finished.filter((s) => s === 'superseded').length,
      finalIsLastPlan: used?.mem_units === lastMemUnits,
    };
  } finally {
    await daemon.close();
    await removeContainers();
    await rm(stateDir, { recursive: true, force: true });
  }
}

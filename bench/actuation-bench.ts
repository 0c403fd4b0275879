import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import Docker from 'dockerode';
import { dockerClient } from '../dev/local-cloud/dockerd-engine';
import { Action } from '../src/domain/action';
import { Execution } from '../src/domain/execution';
import { startDaemon } from '../src/main';
import { GitFixture } from '../test/support/git-fixture';
import { TestEngine } from '../test/support/engines';
import { callDaemon } from './support/daemon-client';
import { elapsedMs, formatMs, markdownTable, median, sum } from './support/stats';

export interface ActuationBenchOptions {
  /** Private engines, at least ceil(max(sizes) / 2) of them: each is one node of 2 cores. */
  engines: TestEngine[];
  /** Containers changed per plan. */
  sizes?: number[];
  /** Measured create → resize → delete cycles per size, through the daemon and directly each. */
  rounds?: number;
  /** Containers of the variant whose tiers run an `on_node_scale` hook (0: no such variant). */
  hookedSize?: number;
  image?: string;
  log?: (line: string) => void;
}

export const DEFAULT_ACTUATION_SIZES = [1, 10, 30];
/** One container per core and no core shared on a node: a 2-core engine holds two 1-core tiers. */
export const CONTAINERS_PER_ENGINE = 2;

const APP = 'actbench';
/** Tiers whose containers run a hook after each create and resize. */
const HOOKED_APP = 'acthook';
/** Reads its payload and succeeds: the cost of running a hook at all, not of any work in it. */
const NOOP_HOOK = '#!/bin/sh\ncat >/dev/null\nexit 0\n';
const MEM_UNIT_MB = 32;
const PHASES = ['create', 'resize', 'delete'] as const;
type Phase = typeof PHASES[number];

/** One container operation the daemon carried out, replayed directly on the same engine. */
interface ContainerOp {
  tier: string;
  vm: string;
  cpuset: number[];
  memoryMb: number;
}

interface DaemonSample {
  httpMs: number;
  solveMs: number;
  translateMs: number;
  runMs: number;
  /** The part of runMs spent in hooks. */
  hooksMs: number;
  /** timings_ms.total minus solve, translate and run: re-reading the engines, writing the record. */
  bookkeepingMs: number;
  /** Per container action, as recorded. */
  actionMs: number[];
  ops: ContainerOp[];
}

interface DirectSample {
  wallMs: number;
  opMs: number[];
}

type Samples<T> = Record<Phase, T[]>;

/**
 * Applies plans that create, resize (memory only, cpusets kept) and delete N single-core containers
 * through the daemon's HTTP API, and issues the same engine operations directly with dockerode on
 * the same engines with the same cpusets and memory limits, in the same run, alternating which goes
 * first. Reports the ratio daemon / direct and where the daemon's time goes, from the execution
 * record. A further variant runs a no-op `on_node_scale` hook in each container it creates or
 * resizes (the direct side has no hooks to run), to show what hooks cost. Returns a markdown table.
 */
export async function runActuationBench(options: ActuationBenchOptions): Promise<string> {
  const sizes = options.sizes ?? DEFAULT_ACTUATION_SIZES;
  const rounds = options.rounds ?? 5;
  const image = options.image ?? process.env.ECOWARE_TEST_IMAGE ?? 'ecoware/busybox:latest';
  const log = options.log ?? (() => undefined);
  const maxSize = Math.max(...sizes);
  const nodeCount = Math.ceil(maxSize / CONTAINERS_PER_ENGINE);
  if (options.engines.length < nodeCount) throw new Error(`${maxSize} containers need ${nodeCount} engines, got ${options.engines.length}`);
  const engines = options.engines.slice(0, nodeCount);
  const nodes = engines.map((engine, i) => ({ name: `node${String(i + 1).padStart(2, '0')}`, engine }));
  const clients = new Map(nodes.map(({ name, engine }) => [name, clientFor(engine)]));
  const tiers = Array.from({ length: maxSize }, (_, i) => `t${String(i).padStart(2, '0')}`);
  const hookedSize = Math.min(options.hookedSize ?? 10, maxSize);
  const hookedTiers = Array.from({ length: hookedSize }, (_, i) => `h${String(i).padStart(2, '0')}`);
  const runId = `${process.pid}-${Date.now().toString(36)}`;

  const stateDir = await fs.mkdtemp(path.join(os.tmpdir(), 'ecoware-bench-actuation-'));
  const hooksRepo = new GitFixture(stateDir, 'hooks-source');
  hooksRepo.commit({ 'scale_hooks/noop.sh': NOOP_HOOK });
  const daemon = await startDaemon({ port: 0, stateDir: path.join(stateDir, 'daemon'), localDocker: engines[0].endpoint });
  try {
    await callDaemon(daemon.url, 'PUT', '/api/topology', {
      infrastructure: {
        cloud_driver: { type: 'static', nodes: nodes.map(({ name, engine }) => ({ name, docker: engine.endpoint })) },
        cpu_cores: 2, mem_units: 8, mem_unit_mb: MEM_UNIT_MB,
        hooks_git_repo: hooksRepo.url, hooks_git_ref: 'main',
      },
      apps: [
        { name: APP, tiers: Object.fromEntries(tiers.map((t) => [t, { docker_image: image }])) },
        { name: HOOKED_APP, tiers: Object.fromEntries(hookedTiers.map((t) => [t, { docker_image: image, on_node_scale: 'noop.sh' }])) },
      ],
    });

    const daemonCycle = async (n: number, app = APP): Promise<Record<Phase, DaemonSample>> => {
      const names = (app === APP ? tiers : hookedTiers).slice(0, n);
      const plan = (cpu: number, mem: number) => ({ [app]: Object.fromEntries(names.map((t) => [t, { cpu_cores: cpu, mem_units: mem }])) });
      return {
        create: await applyThroughDaemon(daemon.url, plan(1, 1), n),
        resize: await applyThroughDaemon(daemon.url, plan(1, 2), n),
        delete: await applyThroughDaemon(daemon.url, plan(0, 0), n),
      };
    };
    const directCycle = async (replay: Record<Phase, DaemonSample>): Promise<Record<Phase, DirectSample>> => {
      const ids = new Map<string, string>();
      const create = await timeEach(replay.create.ops, async (op) => {
        const created = await clients.get(op.vm)!.createContainer(createBody(op, image, runId));
        await created.start();
        ids.set(op.tier, created.id);
      });
      const resize = await timeEach(replay.resize.ops, async (op) => {
        await clients.get(op.vm)!.getContainer(ids.get(op.tier)!).update({
          CpusetCpus: op.cpuset.join(','), Memory: op.memoryMb * MIB, MemorySwap: op.memoryMb * MIB,
        });
      });
      const remove = await timeEach(replay.delete.ops, async (op) => {
        await clients.get(op.vm)!.getContainer(ids.get(op.tier)!).remove({ force: true, v: true });
      });
      return { create, resize, delete: remove };
    };

    // The first containers on a fresh engine are slower (image mount, network set-up): not measured.
    log(`actuation: warm-up with ${maxSize} containers`);
    await directCycle(await daemonCycle(maxSize));

    const rows: string[][] = [];
    const variants = [...sizes.map((n) => ({ n, app: APP, label: String(n) })),
      ...(hookedSize > 0 ? [{ n: hookedSize, app: HOOKED_APP, label: `${hookedSize}, with hook` }] : [])];
    for (const { n, app, label } of variants) {
      const daemonRuns: Samples<DaemonSample> = { create: [], resize: [], delete: [] };
      const directRuns: Samples<DirectSample> = { create: [], resize: [], delete: [] };
      let lastDaemon: Record<Phase, DaemonSample> | undefined;
      for (let round = 0; round < rounds; round++) {
        // Alternate which goes first, so neither always meets an engine the other has just warmed or loaded.
        const directFirst = round % 2 === 1 && lastDaemon !== undefined;
        let direct: Record<Phase, DirectSample>;
        if (directFirst) {
          direct = await directCycle(lastDaemon!);
          lastDaemon = await daemonCycle(n, app);
        } else {
          lastDaemon = await daemonCycle(n, app);
          direct = await directCycle(lastDaemon);
        }
        for (const phase of PHASES) {
          daemonRuns[phase].push(lastDaemon[phase]);
          directRuns[phase].push(direct[phase]);
        }
        log(`actuation N=${label} round ${round + 1}: ` + PHASES.map((p) =>
          `${p} daemon ${formatMs(lastDaemon![p].httpMs)} / direct ${formatMs(direct[p].wallMs)}`).join(', '));
      }
      const cycle = { daemon: [] as number[], direct: [] as number[] };
      for (let round = 0; round < rounds; round++) {
        cycle.daemon.push(sum(PHASES.map((p) => daemonRuns[p][round].httpMs)));
        cycle.direct.push(sum(PHASES.map((p) => directRuns[p][round].wallMs)));
      }
      for (const phase of PHASES) rows.push(row(label, phase, daemonRuns[phase], directRuns[phase]));
      rows.push([label, '**cycle**', formatMs(median(cycle.direct)), formatMs(median(cycle.daemon)),
        `**${(median(cycle.daemon) / median(cycle.direct)).toFixed(2)}×**`, '', '', '', '', '', '', '']);
    }
    return markdownTable(
      ['N', 'phase', 'direct (dockerode)', 'daemon (HTTP round trip)', 'ratio', 'solve', 'translate', 'Docker (run)', 'hooks',
        'record + re-read', 'HTTP', 'per container: daemon action / direct op'],
      rows,
    );
  } finally {
    // The engines go away with their containers; removing ours first keeps a shared engine clean too.
    await Promise.all([...clients.values()].map((docker) => removeByLabel(docker, BENCH_LABEL, runId))).catch(() => undefined);
    await daemon.close();
    await fs.rm(stateDir, { recursive: true, force: true });
  }
}

const MIB = 1024 * 1024;
const BENCH_LABEL = 'io.ecoware.bench';

function row(label: string, phase: Phase, daemon: DaemonSample[], direct: DirectSample[]): string[] {
  const m = (xs: number[]) => median(xs);
  const daemonMs = m(daemon.map((s) => s.httpMs));
  const directMs = m(direct.map((s) => s.wallMs));
  const perContainer = `${formatMs(m(daemon.flatMap((s) => s.actionMs)))} / ${formatMs(m(direct.flatMap((s) => s.opMs)))}`;
  return [
    label, phase, formatMs(directMs), formatMs(daemonMs), `${(daemonMs / directMs).toFixed(2)}×`,
    formatMs(m(daemon.map((s) => s.solveMs))), formatMs(m(daemon.map((s) => s.translateMs))),
    formatMs(m(daemon.map((s) => s.runMs - s.hooksMs))), formatMs(m(daemon.map((s) => s.hooksMs))),
    formatMs(m(daemon.map((s) => s.bookkeepingMs))),
    formatMs(m(daemon.map((s) => s.httpMs - s.solveMs - s.translateMs - s.runMs - s.bookkeepingMs))),
    perContainer,
  ];
}

async function applyThroughDaemon(url: string, plan: unknown, expectedContainers: number): Promise<DaemonSample> {
  const started = process.hrtime.bigint();
  const answer = await callDaemon<{ execution_id: string; status: string }>(url, 'PUT', '/api/execute', plan);
  const httpMs = elapsedMs(started);
  const execution = await callDaemon<Execution>(url, 'GET', `/api/executions/${answer.execution_id}`);
  if (execution.status !== 'succeeded') throw new Error(`execution ${execution.id} ${execution.status}: ${execution.error?.message ?? ''}`);
  const records = execution.steps.flat().filter((r) => isContainerAction(r.action));
  if (records.length !== expectedContainers) {
    throw new Error(`execution ${execution.id} changed ${records.length} containers, expected ${expectedContainers}: ${records.map((r) => r.description).join('; ')}`);
  }
  const t = execution.timings_ms;
  return {
    httpMs,
    solveMs: t.solve ?? 0,
    translateMs: t.translate ?? 0,
    runMs: t.run ?? 0,
    hooksMs: runShareOfHooks(execution),
    bookkeepingMs: (t.total ?? 0) - (t.solve ?? 0) - (t.translate ?? 0) - (t.run ?? 0),
    actionMs: records.map((r) => r.duration_ms ?? 0),
    ops: records.map((r) => {
      const action = r.action as Extract<Action, { type: 'create_container' | 'update_container' | 'delete_container' }>;
      const resources = 'resources' in action ? action.resources : undefined;
      return {
        tier: action.tier, vm: action.vm,
        cpuset: 'cpuset' in action ? action.cpuset : [],
        memoryMb: (resources?.mem_units ?? 0) * MEM_UNIT_MB,
      };
    }),
  };
}

/**
 * Actions run in parallel, so hook durations don't add up to wall time: the run's wall time is split
 * between hooks and engine calls in proportion to their summed durations.
 */
function runShareOfHooks(execution: Execution): number {
  const records = execution.steps.flat();
  const actionsMs = sum(records.map((r) => r.duration_ms ?? 0));
  const hooksMs = sum(records.flatMap((r) => r.hooks.map((h) => h.durationMs)));
  return actionsMs > 0 ? (execution.timings_ms.run ?? 0) * Math.min(1, hooksMs / actionsMs) : 0;
}

function isContainerAction(action: Action): boolean {
  return action.type === 'create_container' || action.type === 'update_container' || action.type === 'delete_container';
}

/** All operations at once, as the daemon runs the actions of one layer; wall time and each one's. */
async function timeEach<T>(items: T[], work: (item: T) => Promise<void>): Promise<DirectSample> {
  const started = process.hrtime.bigint();
  const opMs = await Promise.all(items.map(async (item) => {
    const opStarted = process.hrtime.bigint();
    await work(item);
    return elapsedMs(opStarted);
  }));
  return { wallMs: elapsedMs(started), opMs };
}

/** What the Docker driver sends for a tier without ports, environment or arguments. */
function createBody(op: ContainerOp, image: string, runId: string): Docker.ContainerCreateOptions {
  const memoryBytes = op.memoryMb * MIB;
  return {
    name: `direct_${op.tier}`,
    Image: image,
    Env: [],
    ExposedPorts: {},
    Labels: { [BENCH_LABEL]: runId, [`${BENCH_LABEL}.tier`]: op.tier, [`${BENCH_LABEL}.vm`]: op.vm },
    HostConfig: {
      CpusetCpus: op.cpuset.join(','),
      Memory: memoryBytes,
      MemorySwap: memoryBytes,
      PortBindings: {},
      ExtraHosts: [],
      RestartPolicy: { Name: 'unless-stopped' },
    },
  };
}

function clientFor(engine: TestEngine): Docker {
  const url = new URL(engine.endpoint.replace(/^tcp:/, 'http:'));
  return dockerClient(url.hostname, Number(url.port));
}

async function removeByLabel(docker: Docker, label: string, value: string): Promise<void> {
  const containers = await docker.listContainers({ all: true, filters: { label: [`${label}=${value}`] } });
  await Promise.all(containers.map((c) => docker.getContainer(c.Id).remove({ force: true, v: true }).catch(() => undefined)));
}

import { reportOf, VmReport } from '../../domain/cluster';
import { errorMessage } from '../../domain/errors';
import { flatPlanNames } from '../../domain/plan';
import { Knowledge, Services } from './knowledge';
import { readVm } from './observe-cluster';

/** A VM of `GET /api/allocation`, with what the node pool knows of it. */
export type AllocationReport = VmReport & {
  /** Containers of `used` that exist but do not run, with the engine's state (`exited`, `created` …); absent when all run. */
  not_running?: Record<string, string>;
  /** Present when the node's engine does not answer: `used` is what it last reported. */
  health?: 'unreachable';
  /** Present when the node takes no new containers. */
  cordoned?: true;
};

/** `GET /api/allocation`: what the executor knows runs where. */
export function readAllocation(knowledge: Knowledge): Record<string, AllocationReport> {
  const { cluster } = knowledge.requireDeployment();
  const report: Record<string, AllocationReport> = reportOf(cluster);
  for (const [name, { containers }] of Object.entries(cluster)) {
    const notRunning = Object.fromEntries(Object.values(containers).filter((c) => c.state !== 'running').map((c) => [c.tier, c.state]));
    if (Object.keys(notRunning).length > 0) report[name].not_running = notRunning;
    if (knowledge.nodes.get(name).health === 'unreachable') report[name].health = 'unreachable';
    if (knowledge.nodes.isCordoned(name)) report[name].cordoned = true;
  }
  return report;
}

export interface InspectReport {
  ip?: string;
  docker: string;
  error?: string;
  containers: {
    id: string; name: string; app: string; tier: string; image: string; state: string;
    CpusetCpus: string; Memory: number; MemorySwap: number;
  }[];
}

/** `GET /api/inspect`: what the engines report right now about the topology's containers, asked afresh. */
export async function inspectEngines(knowledge: Knowledge, services: Pick<Services, 'runtimeFor'>): Promise<Record<string, InspectReport>> {
  const { cluster, topology } = knowledge.requireDeployment();
  const entries = await Promise.all(Object.entries(cluster).map(async ([name, { vm }]) => {
    const report: InspectReport = { ip: vm.address, docker: vm.engine.url, containers: [] };
    try {
      const ours = await readVm(services.runtimeFor(vm), name, new Set(topology.tiers.keys()), 'full');
      report.containers = ours.map((c) => ({
        id: c.id, name: c.name, app: c.app, tier: c.tier, image: c.image, state: c.state,
        CpusetCpus: c.cpusetCpus, Memory: c.memoryBytes, MemorySwap: c.memorySwapBytes,
      }));
    } catch (e) {
      report.error = errorMessage(e);
    }
    return [name, report] as const;
  }));
  return Object.fromEntries(entries);
}

/** What the ecoware-core planner's ContainerProbe reads for one tier. */
export interface ProbeEntry {
  /** Every core of the tier's running containers, as a comma list (never ranges: the probe splits on commas). */
  CpusetCpus: string;
  /** The memory limits of those containers, summed, in bytes. */
  Memory: number;
}

/**
 * `GET /api/executor/inspect`: the running tiers in the shape the ecoware-core probe parses, under
 * every name POST /api/executor accepts for each. Asked of the engines afresh, like /api/inspect; an
 * engine that does not answer leaves its containers out.
 */
export async function probeTiers(knowledge: Knowledge, services: Pick<Services, 'runtimeFor'>): Promise<Record<string, ProbeEntry>> {
  const { topology } = knowledge.requireDeployment();
  const engines = await inspectEngines(knowledge, services);
  const byTier = new Map<string, { cores: number[]; memory: number }>();
  for (const report of Object.values(engines)) {
    for (const c of report.containers) {
      if (c.state !== 'running') continue;
      const flat = [...topology.tiers.values()].find((t) => t.app === c.app && t.tier === c.tier)?.flatName;
      if (!flat) continue;
      const entry = byTier.get(flat) ?? { cores: [], memory: 0 };
      entry.cores.push(...expandCpuset(c.CpusetCpus));
      entry.memory += c.Memory;
      byTier.set(flat, entry);
    }
  }
  const names = flatPlanNames(topology);
  const probe: Record<string, ProbeEntry> = {};
  for (const [flat, { cores, memory }] of [...byTier].sort(([a], [b]) => a.localeCompare(b))) {
    for (const name of names.get(flat) ?? [flat]) probe[name] = { CpusetCpus: cores.join(','), Memory: memory };
  }
  return probe;
}

/** `"0-2,5"` → `[0, 1, 2, 5]`. */
function expandCpuset(cpuset: string): number[] {
  const cores: number[] = [];
  for (const part of cpuset.split(',').map((p) => p.trim()).filter((p) => p !== '')) {
    const [from, to] = part.split('-').map(Number);
    for (let n = from; n <= (to ?? from); n++) cores.push(n);
  }
  return cores;
}

import { TierResources } from '../domain/allocation';
import { errorMessage } from '../executor/executor';
import { Knowledge, Services } from './knowledge';

export interface VmReport {
  ip?: string;
  instance_id?: string;
  cpu_cores: number;
  mem_units: number;
  used: TierResources;
  /** Containers of `used` that exist but do not run, with the engine's state (`exited`, `created` …); absent when all run. */
  not_running?: Record<string, string>;
  /** Present when the node's engine does not answer: `used` is what it last reported. */
  health?: 'unreachable';
  /** Present when the node takes no new containers. */
  cordoned?: true;
}

/** `GET /api/allocation`: what the executor knows runs where. */
export function readAllocation(knowledge: Knowledge): Record<string, VmReport> {
  const report: Record<string, VmReport> = {};
  for (const [name, { vm, containers }] of Object.entries(knowledge.requireDeployment().cluster)) {
    const used: TierResources = {};
    const notRunning: Record<string, string> = {};
    for (const c of Object.values(containers)) {
      used[c.tier] = { ...c.resources };
      if (c.state !== 'running') notRunning[c.tier] = c.state;
    }
    report[name] = {
      ip: vm.address, instance_id: vm.instanceId, cpu_cores: vm.capacity.cpu_cores, mem_units: vm.capacity.mem_units, used,
      ...(Object.keys(notRunning).length > 0 ? { not_running: notRunning } : {}),
      ...(knowledge.nodes.get(name).health === 'unreachable' ? { health: 'unreachable' as const } : {}),
      ...(knowledge.nodes.isCordoned(name) ? { cordoned: true as const } : {}),
    };
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
export async function inspectEngines(knowledge: Knowledge, services: Services): Promise<Record<string, InspectReport>> {
  const { cluster, topology } = knowledge.requireDeployment();
  const entries = await Promise.all(Object.entries(cluster).map(async ([name, { vm }]) => {
    const report: InspectReport = { ip: vm.address, docker: vm.docker.url, containers: [] };
    try {
      const ours = (await services.runtimeFor(vm.docker).inspectManaged()).filter((c) => topology.tiers.has(c.flatTier));
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

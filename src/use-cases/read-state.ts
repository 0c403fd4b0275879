import { reportOf, VmReport } from '../domain/cluster';
import { errorMessage } from '../domain/errors';
import { Knowledge, Services } from './knowledge';

/** `GET /api/allocation`: what the executor knows runs where. */
export function readAllocation(knowledge: Knowledge): Record<string, VmReport> {
  return reportOf(knowledge.requireDeployment().cluster);
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

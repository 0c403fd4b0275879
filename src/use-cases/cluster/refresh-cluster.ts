import { Cluster, ContainerState, MISSING_STATE, VmState } from '../../domain/cluster';
import { ContainerRuntimeFactory } from '../../ports/container-runtime';
import { Knowledge } from './knowledge';
import { containerStatesOf, readVm } from './observe-cluster';

/**
 * What the engines say now about the containers the executor knows, in one cheap call per engine:
 * a container that stopped gets its engine state (`exited` …), one that vanished the state
 * `missing`, so the next plan starts or re-creates it rather than counting it as running. A managed
 * container of the watched tiers that the executor does not know (left by a crash between create
 * and record) makes that VM be read in full, so the cores it holds are never given to another
 * (unpinned strays are not the executor's: the drift repair removes them).
 * VMs in `skip` (unreachable engines) and VMs whose engine fails to answer keep what was known.
 * Returns a new cluster; the one given is not changed.
 */
export async function refreshCluster(
  cluster: Cluster,
  runtimeFor: ContainerRuntimeFactory,
  memUnitMb: number,
  tiers: ReadonlySet<string>,
  skip: ReadonlySet<string> = new Set(),
): Promise<Cluster> {
  const entries = await Promise.all(Object.entries(cluster).map(async ([name, known]): Promise<[string, VmState]> => {
    if (skip.has(name)) return [name, known];
    try {
      return [name, await refreshVm(known, runtimeFor, memUnitMb, tiers)];
    } catch {
      return [name, known];
    }
  }));
  return Object.fromEntries(entries);
}

/**
 * The deployment in force as an execution sees it when its turn comes: refreshCluster over the
 * topology's tiers, the unreachable nodes left as known. The knowledge itself is not changed.
 */
export function refreshDeployment(knowledge: Knowledge, runtimeFor: ContainerRuntimeFactory): Promise<Cluster> {
  const { cluster, topology } = knowledge.requireDeployment();
  return refreshCluster(cluster, runtimeFor, topology.infrastructure.memUnitMb, new Set(topology.tiers.keys()), new Set(knowledge.nodes.unreachable()));
}

async function refreshVm(known: VmState, runtimeFor: ContainerRuntimeFactory, memUnitMb: number, tiers: ReadonlySet<string>): Promise<VmState> {
  const runtime = runtimeFor(known.vm);
  const ours = await readVm(runtime, known.vm.name, tiers, 'states');
  const knownIds = new Set(Object.values(known.containers).map((c) => c.id));
  const containers: Record<string, ContainerState> = {};
  if (ours.some((c) => !knownIds.has(c.id))) {
    // Something the executor did not record: read the VM in full (cpusets and memory). On a runtime
    // that pins cores, only a container pinned to cores is one the executor made (it always pins);
    // others are left to the drift repair, which removes them.
    const pinnedOrKnown = (await readVm(runtime, known.vm.name, tiers, 'full'))
      .filter((c) => knownIds.has(c.id) || !runtime.pinsCores || c.cpuset.length > 0);
    Object.assign(containers, containerStatesOf(pinnedOrKnown, memUnitMb));
  } else {
    const byId = new Map(ours.map((c) => [c.id, c]));
    for (const [tier, c] of Object.entries(known.containers)) {
      containers[tier] = { ...c, cpuset: [...c.cpuset], resources: { ...c.resources }, state: byId.get(c.id)?.state ?? MISSING_STATE };
    }
  }
  // A tier the executor placed here whose container is gone stays listed, as missing, until a plan re-creates or drops it.
  for (const [tier, c] of Object.entries(known.containers)) {
    if (!containers[tier]) containers[tier] = { ...c, cpuset: [...c.cpuset], resources: { ...c.resources }, state: MISSING_STATE };
  }
  return { vm: known.vm, containers };
}

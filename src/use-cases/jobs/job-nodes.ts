import { JobNode } from '../../domain/job-placement';
import { Resources } from '../../domain/resources';
import { Vm } from '../../domain/vm';
import { ContainerRuntimeFactory } from '../../ports/container-runtime';
import { Knowledge } from '../cluster/knowledge';
import { JobHolding } from './job-holdings';

/** The nodes as job placement sees them, and the machines an elastic cloud would add. */
export interface JobNodesView {
  nodes: JobNode[];
  /** The cloud's vm_size when it can grow; undefined for a static pool. */
  largest?: Resources;
  memUnitMb: number;
  vms: Map<string, Vm>;
}

/**
 * Every node of the deployment with what tiers' containers and jobs hold on it, and what the
 * execution under way gives tiers there. A node takes no job while unreachable or lost, cordoned,
 * draining, created by the execution under way, or when its runtime cannot run tasks.
 */
export function jobNodesOf(knowledge: Knowledge, runtimeFor: ContainerRuntimeFactory, holdings: readonly JobHolding[]): JobNodesView | undefined {
  const deployment = knowledge.deployment;
  if (!deployment) return undefined;
  const { infrastructure } = deployment.topology;
  const pool = knowledge.nodes;
  // What the execution under way gives tiers counts as theirs already (Knowledge.reservation).
  const reservation = knowledge.reservation;
  const nodes: JobNode[] = [];
  const vms = new Map<string, Vm>();
  for (const [name, { vm, containers }] of Object.entries(deployment.cluster)) {
    vms.set(name, vm);
    const heldCores = new Set<number>();
    let unpinnedCores = 0;
    let heldUnits = 0;
    for (const c of Object.values(containers)) {
      if (c.cpuset.length > 0) for (const core of c.cpuset) heldCores.add(core);
      else unpinnedCores += c.resources.cpu_cores;
      heldUnits += c.resources.mem_units;
    }
    const reserved = reservation?.byVm.get(name);
    if (reserved) {
      for (const core of reserved.cores) heldCores.add(core);
      heldUnits = Math.max(heldUnits, reserved.units);
    }
    for (const h of holdings) {
      if (h.vm !== name) continue;
      if (h.cpuset.length > 0) for (const core of h.cpuset) heldCores.add(core);
      else unpinnedCores += h.cores;
      heldUnits += Math.ceil(h.memoryMb / infrastructure.memUnitMb);
    }
    const status = pool.get(name);
    const unschedulable = reservation && !reservation.vms.has(name) ? 'is being set up by an execution'
      : status.lost ? 'is lost'
      : status.health !== 'ready' ? 'is unreachable'
        : pool.isCordoned(name) ? 'cordoned'
          : pool.isDraining(name) ? 'is draining'
            : runtimeFor(vm).tasks === undefined ? 'has an engine that runs no jobs'
              : undefined;
    nodes.push({ name, capacity: { ...vm.capacity }, labels: { ...(vm.labels ?? {}) }, unschedulable, heldCores, unpinnedCores, heldUnits });
  }
  return {
    nodes,
    largest: deployment.cloud.isElastic ? { ...infrastructure.vmSize } : undefined,
    memUnitMb: infrastructure.memUnitMb,
    vms,
  };
}

/**
 * Whether the cores and memory a placement chose (over a view read earlier) are still free now: the
 * tiers or an execution may have taken them since. Checked right before the job is started.
 */
export function isStillFree(knowledge: Knowledge, runtimeFor: ContainerRuntimeFactory, holdings: readonly JobHolding[], vm: string, cpuset: readonly number[], memUnits: number): boolean {
  const node = jobNodesOf(knowledge, runtimeFor, holdings)?.nodes.find((n) => n.name === vm);
  if (!node || node.unschedulable) return false;
  if (cpuset.some((core) => node.heldCores.has(core))) return false;
  return node.heldUnits + memUnits <= node.capacity.mem_units;
}

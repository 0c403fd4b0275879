import { addResources, Resources, ZERO } from '../../domain/resources';
import { Knowledge } from '../cluster/knowledge';

export interface NodeReport {
  name: string;
  docker: string;
  address?: string;
  instance_id?: string;
  labels: Record<string, string>;
  health: 'ready' | 'unreachable';
  /** Takes new containers: ready, not cordoned, not being drained. */
  schedulable: boolean;
  cordoned: boolean;
  draining: boolean;
  /** When the engine last answered a ping. */
  last_seen?: string;
  ping_ms?: number;
  /** Why the last ping failed, while it fails. */
  last_error?: string;
  unreachable_since?: string;
  capacity: Resources;
  used: Resources;
  containers: { tier: string; id: string; state: string; cpu_cores: number; mem_units: number; cpuset: string }[];
}

/** `GET /api/nodes`: every VM of the cloud with its health, scheduling state and what runs there. */
export function readNodes(knowledge: Knowledge): NodeReport[] {
  const { cluster } = knowledge.requireDeployment();
  const pool = knowledge.nodes;
  return Object.entries(cluster).map(([name, { vm, containers }]) => {
    const status = pool.get(name);
    const list = Object.values(containers).sort((a, b) => a.tier.localeCompare(b.tier));
    const cordoned = pool.isCordoned(name);
    const draining = pool.isDraining(name);
    return {
      name,
      docker: vm.engine.url,
      ...(vm.address !== undefined ? { address: vm.address } : {}),
      ...(vm.instanceId !== undefined ? { instance_id: vm.instanceId } : {}),
      labels: { ...(vm.labels ?? {}) },
      health: status.health,
      schedulable: status.health === 'ready' && !cordoned && !draining,
      cordoned,
      draining,
      ...(status.lastSeen !== undefined ? { last_seen: status.lastSeen } : {}),
      ...(status.pingMs !== undefined ? { ping_ms: status.pingMs } : {}),
      ...(status.lastError !== undefined ? { last_error: status.lastError } : {}),
      ...(status.unreachableSinceMs !== undefined ? { unreachable_since: new Date(status.unreachableSinceMs).toISOString() } : {}),
      capacity: { ...vm.capacity },
      used: list.reduce((sum, c) => addResources(sum, c.resources), { ...ZERO }),
      containers: list.map((c) => ({ tier: c.tier, id: c.id, state: c.state, ...c.resources, cpuset: c.cpuset.join(',') })),
    };
  });
}

export function readNode(knowledge: Knowledge, name: string): NodeReport | undefined {
  return readNodes(knowledge).find((n) => n.name === name);
}

/** How many nodes of the cluster are ready, unreachable and lost (a lost node counts as lost only). */
export function countNodesByHealth(knowledge: Knowledge): Record<'ready' | 'unreachable' | 'lost', number> {
  const counts = { ready: 0, unreachable: 0, lost: 0 };
  for (const name of Object.keys(knowledge.deployment?.cluster ?? {})) {
    const node = knowledge.nodes.get(name);
    counts[node.lost ? 'lost' : node.health] += 1;
  }
  return counts;
}

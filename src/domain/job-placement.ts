import { matchesSelector } from './node-settings';
import { Resources } from './resources';

/**
 * Where a queued job may start now, and if nowhere, why: pure over a view of the nodes. A node's
 * free capacity is its capacity minus what the tiers' containers on it hold minus what jobs on it
 * hold; a job's cores are cores no tier container and no other job is pinned to.
 */

/** One node as job placement sees it. */
export interface JobNode {
  name: string;
  capacity: Resources;
  labels: Record<string, string>;
  /** Why it takes no new job (`unreachable`, `cordoned`, `draining`), or undefined when it does. */
  unschedulable?: string;
  /** Cores held, by tiers' containers and jobs (pinned runtimes). */
  heldCores: ReadonlySet<number>;
  /** Cores held on a runtime that does not pin them (counted, not named). */
  unpinnedCores: number;
  /** Memory units held by tiers' containers and jobs. */
  heldUnits: number;
}

export interface JobNeed {
  cpu_cores: number;
  mem_units: number;
  node_selector?: Readonly<Record<string, string>>;
}

export type Placement =
  | { vm: string; cpuset: number[] }
  | { reason: string; neverFits: boolean };

export function freeCores(node: JobNode): number[] {
  const free: number[] = [];
  for (let core = 0; core < node.capacity.cpu_cores; core++) if (!node.heldCores.has(core)) free.push(core);
  return free.slice(0, Math.max(0, free.length - node.unpinnedCores));
}

export function freeUnits(node: JobNode): number {
  return Math.max(0, node.capacity.mem_units - node.heldUnits);
}

const plural = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;

/**
 * The node a job starts on now (the one with the fewest free cores that fits it, so larger gaps
 * stay for larger jobs; ties by name), or why none: each node that does not fit, and what it lacks.
 * `largest` is the size of the machines an elastic cloud adds (its vm_size; none for a static
 * pool): a job no node of the pool and no such machine could hold never fits.
 */
export function placeJob(nodes: readonly JobNode[], need: JobNeed, largest?: Resources): Placement {
  const never = neverFitsReason(nodes, need, largest);
  if (never) return { reason: never, neverFits: true };
  const selector = need.node_selector ?? {};
  const candidates: { node: JobNode; cores: number[] }[] = [];
  const short: string[] = [];
  for (const node of [...nodes].sort((a, b) => a.name.localeCompare(b.name))) {
    if (!matchesSelector(node.labels, selector)) {
      short.push(`${node.name} does not match the selector`);
      continue;
    }
    if (node.unschedulable) {
      short.push(`${node.name} ${node.unschedulable}`);
      continue;
    }
    const cores = freeCores(node);
    const units = freeUnits(node);
    if (cores.length >= need.cpu_cores && units >= need.mem_units) {
      candidates.push({ node, cores });
      continue;
    }
    const lacks: string[] = [];
    if (cores.length < need.cpu_cores) lacks.push(`${plural(cores.length, 'free core')}`);
    if (units < need.mem_units) lacks.push(`${plural(units, 'free memory unit')}`);
    short.push(`${node.name} has ${lacks.join(' and ')}`);
  }
  if (candidates.length > 0) {
    candidates.sort((a, b) => a.cores.length - b.cores.length || a.node.name.localeCompare(b.node.name));
    const { node, cores } = candidates[0];
    return { vm: node.name, cpuset: cores.slice(0, need.cpu_cores) };
  }
  const wanted = `${plural(need.cpu_cores, 'free core')} and ${plural(need.mem_units, 'free memory unit')}`;
  const where = nodes.length === 0 ? 'there is no node' : short.join(', ');
  return { reason: `no ready node has ${wanted}: ${where}`, neverFits: false };
}

/** Why no node could ever hold the job, or undefined when one could. */
export function neverFitsReason(nodes: readonly JobNode[], need: JobNeed, largest?: Resources): string | undefined {
  const selector = need.node_selector ?? {};
  const matching = nodes.filter((n) => matchesSelector(n.labels, selector));
  const sizes = [...matching.map((n) => n.capacity), ...(largest && Object.keys(selector).length === 0 ? [largest] : [])];
  if (sizes.length === 0) return `no node matches node_selector {${Object.entries(selector).map(([k, v]) => `${k}: ${v}`).join(', ')}}`;
  if (sizes.some((s) => s.cpu_cores >= need.cpu_cores && s.mem_units >= need.mem_units)) return undefined;
  const what = `${plural(need.cpu_cores, 'core')} and ${plural(need.mem_units, 'memory unit')}`;
  return `no node of the pool or the cloud's vm_size could hold ${what} (the largest has ${plural(Math.max(...sizes.map((s) => s.cpu_cores)), 'core')}, ${plural(Math.max(...sizes.map((s) => s.mem_units)), 'memory unit')})`;
}

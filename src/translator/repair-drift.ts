import { Action, Steps } from '../domain/action';
import { Cluster, ContainerState, placementOfCluster } from '../domain/cluster';
import { Drift } from '../domain/drift';
import { HeldByJobsError } from '../domain/errors';
import { ZERO } from '../domain/resources';
import { dependencyLevels, Topology } from '../domain/topology';
import { extraHostsFor } from './translate';

/**
 * The actions that undo the drift, in layers: first the unknown containers go (they may hold cores
 * the others need), then tier by dependency level each container is put back as planned — started,
 * re-created on its cpuset with its memory, or updated back to them — and after that the
 * `on_dependency_scale` hooks of tiers whose dependency was re-created run. A container that is
 * both resized and stopped is updated, then started.
 *
 * A container is never put back on a core running jobs are pinned to (`occupied`, by VM): such a
 * core is swapped for a free one of its VM, and when there is none the repair is refused
 * (HeldByJobsError) and waits for the jobs like a plan.
 */
export function repairSteps(topology: Topology, known: Cluster, drift: Drift[], occupied: Readonly<Record<string, readonly number[]>> = {}): Steps {
  const levels = dependencyLevels(topology);
  const maxLevel = Math.max(0, ...levels.values());
  const layers: Action[][] = Array.from({ length: 2 + 2 * (maxLevel + 1) }, () => []);
  const target = placementOfCluster(known);
  const recreated = new Set<string>();
  const byContainer = new Map<string, Drift[]>();
  for (const d of drift) byContainer.set(`${d.vm}\u0000${d.tier}`, [...(byContainer.get(`${d.vm}\u0000${d.tier}`) ?? []), d]);

  for (const found of byContainer.values()) {
    const { vm, tier } = found[0];
    const kinds = new Set(found.map((d) => d.kind));
    const k: ContainerState | undefined = known[vm]?.containers[tier];
    const level = levels.get(tier) ?? 0;
    if (kinds.has('unknown') || !k) {
      layers[0].push({ type: 'delete_container', vm, tier, resources: { ...ZERO }, cpuset: [] });
    } else if (kinds.has('removed')) {
      const create: Action = { type: 'create_container', vm, tier, resources: { ...k.resources }, cpuset: awayFromJobs(known, vm, tier, occupied), extra_hosts: [] };
      create.extra_hosts = extraHostsFor(create, topology, target);
      layers[1 + 2 * level].push(create);
      recreated.add(tier);
    } else if (kinds.has('resized')) {
      const o = found.find((d) => d.kind === 'resized')!;
      layers[1 + 2 * level].push({
        type: 'update_container', vm, tier, from: { ...(o.found?.resources ?? k.resources) }, resources: { ...k.resources },
        from_cpuset: [...(o.found?.cpuset ?? [])], cpuset: awayFromJobs(known, vm, tier, occupied), ...(kinds.has('stopped') ? { start: true } : {}),
      });
    } else if (kinds.has('stopped')) {
      layers[1 + 2 * level].push({ type: 'start_container', vm, tier, from_state: found[0].found?.state ?? 'exited' });
    }
  }
  for (const tier of topology.tiers.values()) {
    if (!tier.onDependencyScale) continue;
    const because = tier.dependsOn.filter((dep) => recreated.has(dep));
    if (because.length === 0) continue;
    for (const [vm, tiers] of Object.entries(target)) {
      if (tiers[tier.flatName]) layers[2 + 2 * (levels.get(tier.flatName) ?? 0)].push({ type: 'run_tier_hooks', vm, tier: tier.flatName, because });
    }
  }
  return layers.filter((layer) => layer.length > 0);
}


/** The recorded cpuset of a container, with any core a job is pinned to swapped for a core no one holds. */
function awayFromJobs(known: Cluster, vm: string, tier: string, occupied: Readonly<Record<string, readonly number[]>>): number[] {
  const { cpuset } = known[vm].containers[tier];
  const jobs = new Set(occupied[vm] ?? []);
  if (!cpuset.some((c) => jobs.has(c))) return [...cpuset];
  const others = new Set(Object.entries(known[vm].containers).filter(([t]) => t !== tier).flatMap(([, c]) => c.cpuset));
  const kept = cpuset.filter((c) => !jobs.has(c));
  for (let c = 0; c < known[vm].vm.capacity.cpu_cores && kept.length < cpuset.length; c++) {
    if (!jobs.has(c) && !others.has(c) && !kept.includes(c)) kept.push(c);
  }
  if (kept.length < cpuset.length) {
    throw new HeldByJobsError(`tier '${tier}' cannot be put back on ${vm}: ${cpuset.length - kept.length} of its cores are held by running jobs and no other core is free`);
  }
  return kept.sort((a, b) => a - b);
}

import { Action, Steps } from '../domain/action';
import { Cluster, ContainerState, placementOfCluster } from '../domain/cluster';
import { Drift } from '../domain/drift';
import { ZERO } from '../domain/resources';
import { dependencyLevels, Topology } from '../domain/topology';
import { extraHostsFor } from './translate';

/**
 * The actions that undo the drift, in layers: first the unknown containers go (they may hold cores
 * the others need), then tier by dependency level each container is put back as planned — started,
 * re-created on its cpuset with its memory, or updated back to them — and after that the
 * `on_dependency_scale` hooks of tiers whose dependency was re-created run. A container that is
 * both resized and stopped is updated, then started.
 */
export function repairSteps(topology: Topology, known: Cluster, drift: Drift[]): Steps {
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
      const create: Action = { type: 'create_container', vm, tier, resources: { ...k.resources }, cpuset: [...k.cpuset], extra_hosts: [] };
      create.extra_hosts = extraHostsFor(create, topology, target);
      layers[1 + 2 * level].push(create);
      recreated.add(tier);
    } else if (kinds.has('resized')) {
      const o = found.find((d) => d.kind === 'resized')!;
      layers[1 + 2 * level].push({
        type: 'update_container', vm, tier, from: { ...(o.found?.resources ?? k.resources) }, resources: { ...k.resources },
        from_cpuset: [...(o.found?.cpuset ?? [])], cpuset: [...k.cpuset], ...(kinds.has('stopped') ? { start: true } : {}),
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


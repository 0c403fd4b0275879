import { Placement } from '../domain/allocation';
import { Action, CreateContainerAction, describeAction, Steps } from '../domain/action';
import { Cluster, MISSING_STATE, needsStart } from '../domain/cluster';
import { sameCores } from '../domain/drift';
import { Resources, sameResources } from '../domain/resources';
import { dependencyLevels, Topology } from '../domain/topology';
import { planCpusets } from './plan-cpusets';

export interface TranslationInput {
  topology: Topology;
  /** What runs now. */
  current: Cluster;
  /** The allocator's answer; new VMs carry the placeholder names listed in `newVms`. */
  target: Placement;
  newVms: string[];
  /** Size of a new VM. */
  vmSize: Resources;
  /**
   * Elastic clouds release every VM the target leaves empty (an idle instance costs money);
   * a static pool only marks as released the nodes this plan empties.
   */
  releaseIdleVms: boolean;
  /**
   * Whether the runtime of a VM pins containers to cores (default: every one does). Where it does
   * not, cpusets are still planned (the cores are counted as the allocation's), but a container is
   * never updated for its cores alone.
   */
  pinsCores?: (vm: string) => boolean;
  /** Cores running jobs are pinned to, by VM: never given to a tier. */
  occupiedCores?: Readonly<Record<string, readonly number[]>>;
  /** VMs running jobs hold: never released, whatever the target leaves on them. */
  heldVms?: ReadonlySet<string>;
}

export interface Translation {
  steps: Steps;
  /** The same layers as one-line descriptions in the ecoware-executor wording. */
  actions: string[][];
}

/**
 * Turns the difference between the current and the target placement into ordered layers:
 *
 *   create_vm*  ->  for each dependency level n:  [container actions of level n]  [dependency hooks of level n]  ->  delete_vm*
 *
 * A tier's container actions run after those of the tiers it depends on. `run_tier_hooks` for a tier
 * runs after its own container actions, which (being of a higher level) already follow the changed
 * dependency's. Empty layers are dropped.
 */
export function translate(input: TranslationInput): Translation {
  const { topology, current, target } = input;
  const pinsCores = input.pinsCores ?? (() => true);
  const levels = dependencyLevels(topology);
  const levelOf = (tier: string) => levels.get(tier) ?? 0;
  const maxLevel = Math.max(0, ...levels.values());
  const containerLayer = (tier: string) => 1 + 2 * levelOf(tier);
  const hookLayer = (tier: string) => 2 + 2 * levelOf(tier);
  const lastLayer = 3 + 2 * maxLevel;

  const scheduled: { layer: number; action: Action }[] = [];
  for (const vm of input.newVms) {
    if (target[vm]) scheduled.push({ layer: 0, action: { type: 'create_vm', vm, capacity: { ...input.vmSize } } });
  }

  const changedTiers = new Set<string>();
  const vmNames = [...Object.keys(current), ...input.newVms.filter((vm) => target[vm] && !current[vm])];
  for (const vm of vmNames) {
    const containers = current[vm]?.containers ?? {};
    const wanted = target[vm] ?? {};
    const capacityCores = current[vm]?.vm.capacity.cpu_cores ?? input.vmSize.cpu_cores;
    const tiers = [...new Set([...Object.keys(containers), ...Object.keys(wanted)])].sort();
    const cores = planCpusets(
      capacityCores,
      tiers.map((tier) => ({
        tier,
        current: containers[tier]?.cpuset ?? [],
        wanted: wanted[tier]?.cpu_cores ?? 0,
        layer: containerLayer(tier),
      })),
      input.occupiedCores?.[vm] ?? [],
    );

    const vmActions = new Map<string, { layer: number; action: Action }>();
    for (const tier of tiers) {
      const before = containers[tier];
      const after = wanted[tier];
      const cpuset = cores.get(tier)!.cpuset;
      let action: Action | undefined;
      if (before && !after) {
        action = { type: 'delete_container', vm, tier, resources: { ...before.resources }, cpuset: [...before.cpuset] };
      } else if ((!before || before.state === MISSING_STATE) && after) {
        // A container removed behind the executor's back is made again, on the cores it had where it can.
        action = { type: 'create_container', vm, tier, resources: { ...after }, cpuset, extra_hosts: [] };
      } else if (before && after && (!sameResources(before.resources, after) || (pinsCores(vm) && !sameCores(before.cpuset, cpuset)))) {
        action = {
          type: 'update_container', vm, tier, from: { ...before.resources }, resources: { ...after }, from_cpuset: [...before.cpuset], cpuset,
          ...(needsStart(before) ? { start: true } : {}),
        };
      } else if (before && after && needsStart(before)) {
        // Kept as it is, but not running: the allocation counts it only once it runs again.
        action = { type: 'start_container', vm, tier, from_state: before.state };
      }
      if (!action) continue;
      changedTiers.add(tier);
      vmActions.set(tier, { layer: containerLayer(tier), action });
    }
    // Make before break, for cores: an action releasing cores must not run after the one taking them.
    for (const [tier, assignment] of cores) {
      const taker = vmActions.get(tier);
      if (!taker) continue;
      for (const from of assignment.takesFrom) {
        const releaser = vmActions.get(from);
        if (releaser && releaser.layer > taker.layer) releaser.layer = taker.layer;
      }
    }
    scheduled.push(...vmActions.values());
  }

  for (const entry of scheduled) {
    if (entry.action.type === 'create_container') entry.action.extra_hosts = extraHostsFor(entry.action, topology, target);
  }

  for (const tier of topology.tiers.values()) {
    if (!tier.onDependencyScale) continue;
    const because = tier.dependsOn.filter((dep) => changedTiers.has(dep));
    if (because.length === 0) continue;
    for (const [vm, tiers] of Object.entries(target)) {
      if (tiers[tier.flatName]) scheduled.push({ layer: hookLayer(tier.flatName), action: { type: 'run_tier_hooks', vm, tier: tier.flatName, because } });
    }
  }

  for (const [vm, state] of Object.entries(current)) {
    // A VM a job runs on stays until the job ends (the fleet releases it once idle, see use-cases/jobs/).
    if (target[vm] || input.heldVms?.has(vm)) continue;
    const emptiedNow = Object.keys(state.containers).length > 0;
    if (emptiedNow || input.releaseIdleVms) scheduled.push({ layer: lastLayer, action: { type: 'delete_vm', vm } });
  }

  const steps: Steps = [];
  for (let layer = 0; layer <= lastLayer; layer++) {
    const actions = scheduled.filter((s) => s.layer === layer).map((s) => s.action).sort(actionOrder);
    if (actions.length > 0) steps.push(actions);
  }
  return { steps, actions: steps.map((layer) => layer.map(describeAction)) };
}

/** `/etc/hosts` entries `<tier>:<address of its VM>` for the `max_node: 1` tiers this one depends on. */
export function extraHostsFor(action: CreateContainerAction, topology: Topology, target: Placement): { host: string; vm: string }[] {
  const tier = topology.tiers.get(action.tier);
  if (!tier) return [];
  const hosts: { host: string; vm: string }[] = [];
  for (const depName of tier.dependsOn) {
    const dep = topology.tiers.get(depName);
    if (dep?.maxNode !== 1) continue;
    const vm = Object.keys(target).find((v) => target[v][depName]);
    if (vm) hosts.push({ host: dep.tier, vm });
  }
  return hosts;
}

const TYPE_ORDER: Record<Action['type'], number> = {
  create_vm: 0, delete_container: 1, update_container: 2, start_container: 3, create_container: 4, run_tier_hooks: 5, delete_vm: 6,
};

/** Stable order inside a layer, so previews are reproducible. */
function actionOrder(a: Action, b: Action): number {
  return TYPE_ORDER[a.type] - TYPE_ORDER[b.type] || a.vm.localeCompare(b.vm) || ('tier' in a && 'tier' in b ? a.tier.localeCompare(b.tier) : 0);
}

import { Cluster, ContainerState, containerStateOf, VmState } from '../../domain/cluster';
import { errorMessage, InfrastructureError } from '../../domain/errors';
import { Vm } from '../../domain/vm';
import { CloudDriver } from '../../ports/cloud-driver';
import { ContainerRuntime, ContainerRuntimeFactory, ManagedContainer, ManagedContainerState } from '../../ports/container-runtime';

/**
 * The one observer of the engines: every reading of "what runs on this VM" goes through `readVm`,
 * and the rule of which containers belong to a VM is written here only.
 */

/** Which containers of the deployment are looked at: the flat names of its tiers. */
export type WatchedTiers = ReadonlySet<string>;

/**
 * A managed container belongs to a VM when it is of a watched tier and carries that VM's label, or
 * no VM label at all (made before containers were labelled with their VM). Another VM's container
 * on the same engine (two nodes sharing one engine) is not this VM's, and an engine may also run
 * containers of other deployments, whose tiers are not watched.
 */
export function belongsTo(container: { flatTier: string; vm: string }, vm: string, tiers: WatchedTiers): boolean {
  return tiers.has(container.flatTier) && (container.vm === '' || container.vm === vm);
}

/**
 * The containers on one VM's engine that belong to it: in full (cpusets, memory, health, ports:
 * one list and one inspect per container) or, with `states`, only id, tier and engine state in one
 * cheap list.
 */
export function readVm(runtime: ContainerRuntime, vm: string, tiers: WatchedTiers, depth: 'full'): Promise<ManagedContainer[]>;
export function readVm(runtime: ContainerRuntime, vm: string, tiers: WatchedTiers, depth: 'states'): Promise<ManagedContainerState[]>;
export async function readVm(runtime: ContainerRuntime, vm: string, tiers: WatchedTiers, depth: 'full' | 'states'):
  Promise<ManagedContainer[] | ManagedContainerState[]> {
  const found = depth === 'full' ? await runtime.listManaged() : await runtime.listManagedStates();
  return found.filter((c) => belongsTo(c, vm, tiers));
}

/** A VM's containers as the cluster keeps them, by flat tier name. */
export function containerStatesOf(containers: readonly ManagedContainer[], memUnitMb: number): Record<string, ContainerState> {
  return Object.fromEntries(containers.map((c) => [c.flatTier, containerStateOf(c, memUnitMb)]));
}

/**
 * Reads the given VMs in full, in parallel: what each engine reports, and the VMs whose engine did
 * not answer (with the error). VMs in `skip` are not asked.
 */
export async function observeVms(vms: readonly Vm[], runtimeFor: ContainerRuntimeFactory, memUnitMb: number, tiers: WatchedTiers, skip: ReadonlySet<string> = new Set()):
  Promise<{ observed: Map<string, Record<string, ContainerState>>; unanswered: Map<string, unknown> }> {
  const observed = new Map<string, Record<string, ContainerState>>();
  const unanswered = new Map<string, unknown>();
  await Promise.all(vms.filter((vm) => !skip.has(vm.name)).map(async (vm) => {
    try {
      observed.set(vm.name, containerStatesOf(await readVm(runtimeFor(vm), vm.name, tiers, 'full'), memUnitMb));
    } catch (e) {
      unanswered.set(vm.name, e);
    }
  }));
  return { observed, unanswered };
}

/**
 * Rebuilds what runs where from the cloud and the engines (the managed labels), so containers
 * created before a restart are recognised rather than duplicated. Only containers of the given tiers
 * count: an engine may also run containers of other deployments. With `previous`, a VM whose engine
 * does not answer keeps what was known of it; without, that is an error. `listed` saves asking the
 * cloud again when the caller just did. VMs in `skip` (engines already found down) keep what
 * `previous` knew of them without their engine being asked.
 */
export async function observeCluster(
  cloud: CloudDriver,
  runtimeFor: ContainerRuntimeFactory,
  memUnitMb: number,
  tiers: WatchedTiers,
  previous?: Cluster,
  listed?: Vm[],
  skip: ReadonlySet<string> = new Set(),
): Promise<Cluster> {
  const vms = listed ?? (await cloud.listVms());
  // A skipped VM is asked all the same when nothing was known of it.
  const notAsked = new Set([...skip].filter((name) => previous?.[name]));
  const { observed, unanswered } = await observeVms(vms, runtimeFor, memUnitMb, tiers, notAsked);
  return Object.fromEntries(vms.map((vm): [string, VmState] => {
    const containers = observed.get(vm.name) ?? previous?.[vm.name]?.containers;
    if (!containers) throw new InfrastructureError(`vm '${vm.name}' (${vm.engine.url}): ${errorMessage(unanswered.get(vm.name))}`, 'engine');
    return [vm.name, { vm, containers }];
  }));
}

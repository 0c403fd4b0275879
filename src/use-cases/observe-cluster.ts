import { Cluster, ContainerState, containerStateOf } from '../domain/cluster';
import { errorMessage, InfrastructureError } from '../domain/errors';
import { Vm } from '../domain/vm';
import { CloudDriver } from '../ports/cloud-driver';
import { ContainerRuntimeFactory } from '../ports/container-runtime';

/**
 * Rebuilds what runs where from the cloud and the engines (the managed labels), so containers
 * created before a restart are recognised rather than duplicated. Only containers of the given tiers
 * count: an engine may also run containers of other deployments. With `previous`, a VM whose engine
 * does not answer keeps what was known of it; without, that is an error. `vms` saves asking the
 * cloud again when the caller just did. VMs in `skip` (engines already found down) keep what
 * `previous` knew of them without their engine being asked.
 */
export async function observeCluster(
  cloud: CloudDriver,
  runtimeFor: ContainerRuntimeFactory,
  memUnitMb: number,
  tiers: ReadonlySet<string>,
  previous?: Cluster,
  listed?: Vm[],
  skip: ReadonlySet<string> = new Set(),
): Promise<Cluster> {
  const vms = listed ?? (await cloud.listVms());
  const entries = await Promise.all(vms.map(async (vm) => {
    const skipped = skip.has(vm.name) ? previous?.[vm.name] : undefined;
    if (skipped) return [vm.name, { vm, containers: skipped.containers }] as const;
    try {
      const containers: Record<string, ContainerState> = {};
      for (const c of await runtimeFor(vm.docker).listManaged()) {
        if (!tiers.has(c.flatTier)) continue;
        containers[c.flatTier] = containerStateOf(c, memUnitMb);
      }
      return [vm.name, { vm, containers }] as const;
    } catch (e) {
      const known = previous?.[vm.name];
      if (known) return [vm.name, { vm, containers: known.containers }] as const;
      throw new InfrastructureError(`vm '${vm.name}' (${vm.docker.url}): ${errorMessage(e)}`, 'engine');
    }
  }));
  return Object.fromEntries(entries);
}

import { isDeepStrictEqual } from 'node:util';
import { Cluster } from '../../domain/cluster';
import { errorMessage } from '../../domain/errors';
import { parseTopology } from '../../schema/topology-file';
import { NODE_CHECK_TIMEOUT_MS } from './check-nodes';
import { Knowledge, Services } from './knowledge';
import { observeCluster } from './observe-cluster';

/** What observing needs: stores to read and clients that can only read (drivers/lead-guard.ts `readOnlyCalls`). */
export type ObservingServices = Pick<Services, 'runtimeFor' | 'cloudFor' | 'localDocker' | 'allowBindRoot'>;

/**
 * A standby's view of the fleet (SPEC §12): the topology the leader put in force, with what runs
 * where as the cloud and the engines report it now, and each node's health from one ping. Nothing
 * is decided or changed: no hook is fetched, no check refuses the document (the leader accepted
 * it), no loop starts. A node whose engine does not answer keeps what this view last knew of it
 * and is shown unreachable. The knowledge's deployment is replaced as a whole, as a load does.
 */
export async function observeDeployment(knowledge: Knowledge, services: ObservingServices, document: unknown, now = Date.now): Promise<void> {
  const topology = parseTopology(document, { localDocker: services.localDocker, allowBindRoot: services.allowBindRoot, restoring: true });
  const { infrastructure } = topology;
  // The same infrastructure is read through the same client (an AWS client is not made every reading).
  const inForce = knowledge.deployment;
  const cloud = inForce && isDeepStrictEqual(inForce.topology.raw.infrastructure, topology.raw.infrastructure)
    ? inForce.cloud : await services.cloudFor(infrastructure.cloud, infrastructure.vmSize);
  const vms = await cloud.listVms();
  const down = new Map<string, string>();
  await Promise.all(vms.map(async (vm) => {
    const sentAt = performance.now();
    try {
      await services.runtimeFor(vm).ping(NODE_CHECK_TIMEOUT_MS);
      knowledge.nodes.succeeded(vm.name, Math.round(performance.now() - sentAt), now());
    } catch (e) {
      const problem = `node '${vm.name}' (${vm.engine.url}) is unreachable: ${errorMessage(e)}`;
      down.set(vm.name, problem);
      knowledge.nodes.failed(vm.name, problem, now(), true);
    }
  }));
  const known = knowledge.deployment?.cluster;
  const previous: Cluster = Object.fromEntries(vms.filter((vm) => down.has(vm.name))
    .map((vm) => [vm.name, { vm, containers: known?.[vm.name]?.containers ?? {} }]));
  const cluster = await observeCluster(cloud, services.runtimeFor, infrastructure.memUnitMb, new Set(topology.tiers.keys()), previous, vms, new Set(down.keys()));
  knowledge.nodes.retain(vms.map((vm) => vm.name));
  knowledge.putInForce({ topology, cloud, cluster });
}

import { isDeepStrictEqual } from 'node:util';
import { UnsatisfiableError, ConflictError, errorMessage } from '../../domain/errors';
import { redactUrlSecrets } from '../../domain/redact';
import { log } from '../../log';
import { Topology } from '../../domain/topology';
import { parseTopology } from '../../schema/topology-file';
import { syncAndCheckHooks } from './check-hooks';
import { Knowledge, Services } from '../cluster/knowledge';
import { checkNodes, probeNodes } from '../cluster/check-nodes';
import { Cluster } from '../../domain/cluster';
import { Execution } from '../../domain/execution';
import { Vm } from '../../domain/vm';
import { observeCluster } from '../cluster/observe-cluster';

/**
 * Replaces the topology. Everything that could refuse it happens before anything is changed:
 * parse (400), reach every VM's engine and find the cores it is given (422), no running tier may
 * disappear (409), fetch the hooks and find every hook named (422). Only then is the document persisted and put in force.
 */
export interface LoadOptions {
  /** Write the document to the state dir (not when it was read from there). */
  persist: boolean;
  /**
   * Restoring a topology accepted before: a hooks repository that can't be reached is used as last
   * fetched rather than keeping the daemon from coming back.
   */
  restoring?: boolean;
}

export async function loadTopology(knowledge: Knowledge, services: Services, document: unknown, options: LoadOptions = { persist: true }): Promise<Topology> {
  const topology = parseTopology(document, { localDocker: services.localDocker, allowBindRoot: services.allowBindRoot, restoring: options.restoring });
  const { infrastructure } = topology;
  const cloud = await services.cloudFor(infrastructure.cloud, infrastructure.vmSize);

  // Tiers of the topology in force that the new one drops must not leave containers behind.
  const previousTiers = [...(knowledge.deployment?.topology.tiers.keys() ?? [])];
  const dropped = previousTiers.filter((tier) => !topology.tiers.has(tier));
  const watched = new Set([...topology.tiers.keys(), ...dropped]);
  // A restart serves with the nodes whose engine is down marked unreachable (SPEC §8); a new
  // topology is refused when a node does not answer (SPEC §1).
  let down: { vm: Vm; problem: string }[] = [];
  const cluster = await (async () => {
    const vms = await cloud.listVms();
    if (!options.restoring) {
      await checkNodes(vms, services.runtimeFor);
      return observeCluster(cloud, services.runtimeFor, infrastructure.memUnitMb, watched, undefined, vms);
    }
    const probe = await probeNodes(vms, services.runtimeFor);
    if (probe.problems.length > 0) throw new UnsatisfiableError(probe.problems.join('; '));
    down = probe.unreachable;
    const previous = down.length > 0 ? await lastKnownContainers(services, down.map((d) => d.vm)) : undefined;
    // The down nodes' engines are not asked again: they would only answer with the driver's call timeout.
    return observeCluster(cloud, services.runtimeFor, infrastructure.memUnitMb, watched, previous, vms, new Set(down.map((d) => d.vm.name)));
  })().catch((e) => {
    throw e instanceof UnsatisfiableError ? e : new UnsatisfiableError(`the topology can't be honoured: ${errorMessage(e)}`);
  });
  for (const { vm, containers } of Object.values(cluster)) {
    const orphans = dropped.filter((tier) => containers[tier]);
    if (orphans.length > 0) {
      throw new ConflictError(`tier(s) ${orphans.join(', ')} still run on vm '${vm.name}' but are not in the new topology: remove them with a plan first`);
    }
  }

  // Fetches the hooks and finds every hook named; a refusal puts the hooks in force back.
  const hooks = await syncAndCheckHooks(topology, knowledge.deployment?.topology, services.hookSource, services.processDefinitions, { allowStale: options.restoring });
  if (hooks.stale) log.warn({ hooks_repo: redactUrlSecrets(infrastructure.hooksGitRepo ?? ''), commit: hooks.commit }, "hooks repository can't be reached: using the commit fetched before");

  if (options.persist) await services.topologies.save(topology.raw);
  const inForce = knowledge.deployment?.topology;
  // The loops follow the infrastructure (nodes, intervals, the hooks' repository and schedule); a
  // document that changes only apps leaves them running as they are.
  const sameInfrastructure = inForce !== undefined && isDeepStrictEqual(inForce.raw.infrastructure, topology.raw.infrastructure);
  knowledge.putInForce({ topology, cloud, cluster });
  for (const { vm, problem } of down) {
    knowledge.nodes.failed(vm.name, problem, Date.now(), true);
    log.warn(`${problem}: serving with node '${vm.name}' unreachable`);
  }
  if (!sameInfrastructure) {
    services.hookSchedule?.follow(topology);
    services.nodeLoops?.follow(topology);
  }
  return topology;
}

/**
 * What the newest recorded execution left on VMs whose engine does not answer at start, so the
 * allocator keeps counting it (their containers' ids and cores are read when the node is back).
 */
async function lastKnownContainers(services: Services, vms: Vm[]): Promise<Cluster> {
  const known: Cluster = Object.fromEntries(vms.map((vm) => [vm.name, { vm, containers: {} }]));
  const { items } = await services.executions.list({ limit: 20, offset: 0 }).catch(() => ({ items: [] as Execution[] }));
  const last = items.find((e) => e.allocation_after !== undefined)?.allocation_after;
  for (const vm of vms) {
    for (const [tier, resources] of Object.entries(last?.[vm.name]?.used ?? {})) {
      known[vm.name].containers[tier] = { id: '', tier, resources: { ...resources }, cpuset: [], state: 'unknown' };
    }
  }
  return known;
}

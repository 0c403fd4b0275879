import { Placement } from '../domain/allocation';
import { Tier, Topology } from '../domain/topology';
import { Vm } from '../domain/vm';
import { ContainerRuntime, SystemContainerSpec } from '../ports/container-runtime';
import { ClusterLedger } from './run-contract';

/** What the executor needs to run the containers of systems (compose files). */
export interface SystemContainerPorts {
  /** The per-node range host ports are chosen from (`--host-ports`). */
  hostPortRange: { first: number; last: number };
  /** Told the ports chosen, so a container re-created on the same VM gets them again. */
  ledger?: SystemPortLedger;
  /** Longest wait for a `service_healthy` dependency. */
  healthyTimeoutMs: number;
  healthPollMs?: number;
}

/**
 * The host ports of systems, as the executor reads them and reports the ports it got. The executor
 * never writes a system record itself: whoever owns the records applies these reports.
 */
export interface SystemPortLedger {
  /** Ports chosen before, by VM and service (`8080/tcp` -> 20001). */
  hostPortsOf(sid: string): Record<string, Record<string, Record<string, number>>> | undefined;
  /** A container of `service` got these host ports on `vm`. */
  hostPortsChosen(sid: string, vm: string, service: string, hostPorts: Record<string, number>): void;
}

export interface SystemContainerInput {
  tier: Tier;
  vm: string;
  topology: Topology;
  cluster: ClusterLedger;
  newPlacement: Placement;
  resolve: (vm: string) => string;
}

/**
 * The system part of a container's spec, and how it finds the other services of its system:
 *
 * - on its own VM, by service name on the system's network (Docker's DNS, as in Compose);
 * - across VMs, by service name through an `/etc/hosts` entry pointing at the VM that runs it;
 *   there a service answers on its host port, which the dependencies' environment gives:
 *   `ECOWARE_SERVICE_<SVC>_HOST` and `ECOWARE_SERVICE_<SVC>_PORT_<container port>` hold the address
 *   and port that reach it from this container wherever it runs (the service name and container
 *   port on the same VM, the VM's address and host port across VMs).
 */
export function systemContainerFields(input: SystemContainerInput, ports: SystemContainerPorts):
  { system: SystemContainerSpec; extraHosts: { host: string; address: string }[]; environment: Record<string, string> } {
  const { tier, vm, topology, cluster, newPlacement, resolve } = input;
  const sys = tier.system!;
  const hostPorts = ports.ledger?.hostPortsOf(sys.sid);
  const extraHosts: { host: string; address: string }[] = [];
  const environment: Record<string, string> = {};
  const siblings = [...topology.tiers.values()].filter((t) => t.app === tier.app && t.flatName !== tier.flatName && t.system);
  for (const other of siblings) {
    const vmsOfOther = Object.keys(newPlacement).filter((v) => newPlacement[v][other.flatName]).map(resolve);
    if (vmsOfOther.length === 0 || vmsOfOther.includes(vm)) {
      if (tier.dependsOn.includes(other.flatName)) addServiceEnv(environment, other, other.system!.service, undefined);
      continue;
    }
    const address = cluster.vm(vmsOfOther[0])?.vm.address;
    if (!address) continue;
    extraHosts.push({ host: other.system!.service, address });
    if (tier.dependsOn.includes(other.flatName)) addServiceEnv(environment, other, address, hostPorts?.[vmsOfOther[0]]?.[other.system!.service]);
  }
  return {
    system: {
      sid: sys.sid,
      service: sys.service,
      network: sys.network,
      entrypoint: sys.entrypoint,
      healthcheck: sys.healthcheck,
      mounts: sys.mounts,
      restart: sys.restart,
      publish: sys.publish,
      hostPortRange: ports.hostPortRange,
      preferredHostPorts: hostPorts?.[vm]?.[sys.service] ?? {},
      namespace: sys.namespace,
      labels: { ...sys.labels },
    },
    extraHosts,
    environment,
  };
}

function addServiceEnv(env: Record<string, string>, other: Tier, host: string | undefined, hostPorts: Record<string, number> | undefined): void {
  const key = other.system!.service.toUpperCase().replace(/[^A-Z0-9]/g, '_');
  env[`ECOWARE_SERVICE_${key}_HOST`] = host ?? other.system!.service;
  for (const p of other.system!.publish) {
    const published = host === undefined ? p.containerPort : hostPorts?.[`${p.containerPort}/${p.protocol}`];
    if (published !== undefined) env[`ECOWARE_SERVICE_${key}_PORT_${p.containerPort}`] = String(published);
  }
}

/** Reports the ports a container got, so that a re-creation on the same VM asks for them again. */
export function reportHostPorts(ledger: SystemPortLedger | undefined, tier: Tier, vm: string, hostPorts: Record<string, number> | undefined): void {
  if (!ledger || !tier.system || !hostPorts || Object.keys(hostPorts).length === 0) return;
  ledger.hostPortsChosen(tier.system.sid, vm, tier.system.service, hostPorts);
}

/**
 * `depends_on: {condition: service_healthy}`: waits until every container of each such dependency
 * reports `healthy`, as Compose does: `unhealthy` or a container that stopped fails at once.
 */
export async function waitForHealthyDependencies(
  input: { tier: Tier; topology: Topology; cluster: ClusterLedger; newPlacement: Placement; resolve: (vm: string) => string; signal: AbortSignal; runtimeFor: (vm: Vm) => ContainerRuntime },
  ports: SystemContainerPorts,
): Promise<void> {
  const { tier, topology, cluster, signal, newPlacement, resolve } = input;
  const waitFor = tier.system?.waitHealthy ?? [];
  if (waitFor.length === 0) return;
  const deadline = Date.now() + ports.healthyTimeoutMs;
  for (const service of waitFor) {
    const dep = [...topology.tiers.values()].find((t) => t.app === tier.app && t.tier === service);
    if (!dep) throw new Error(`dependency '${service}' is not a service of this system`);
    for (;;) {
      if (signal.aborted) throw new Error(`cancelled while waiting for '${service}' to be healthy`);
      // The dependency's containers are where the plan puts them; its layer ran before this one.
      const onVms = Object.keys(newPlacement).filter((v) => newPlacement[v][dep.flatName]).map((v) => cluster.vm(resolve(v)))
        .filter((s): s is NonNullable<typeof s> => s !== undefined && s.containers[dep.flatName] !== undefined);
      const states = await Promise.all(onVms.map(async (s) => (await input.runtimeFor(s.vm).listManaged()).find((c) => c.id === s.containers[dep.flatName].id)));
      if (states.length === 0) throw new Error(`dependency '${service}' has no container`);
      const bad = states.find((c) => !c || c.state !== 'running' && c.state !== 'restarting' || c.health === 'unhealthy');
      if (bad) throw new Error(`dependency '${service}' is ${!bad ? 'gone' : bad.health === 'unhealthy' ? 'unhealthy' : bad.state}`);
      if (states.every((c) => c!.health === 'healthy')) break;
      if (Date.now() > deadline) throw new Error(`dependency '${service}' was not healthy within ${Math.round(ports.healthyTimeoutMs / 1000)} s`);
      await new Promise((r) => setTimeout(r, ports.healthPollMs ?? 100));
    }
  }
}

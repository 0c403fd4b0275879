import { TierResources } from '../../domain/allocation';
import { flatTierName } from '../../domain/names';
import { Tier } from '../../domain/topology';
import { parseHookSpec } from '../topology-file';
import { AppEdit } from '../../domain/topology-edit';
import { ComposeFile, ComposeService } from './compose-file';
import { SystemMount, SystemTier } from '../../domain/system-tier';

const MIB = 1024 * 1024;

export interface SystemIdentity {
  /** The system's name (the request's, or the file's top-level `name`). */
  name: string;
  /** 32 hex digits. */
  sid: string;
  namespace: string;
}

export interface SystemApp {
  /** `<name>-<sid>`: the app of the topology, the network and the volumes' prefix. */
  appName: string;
  /**
   * The app as the topology document's entry (`{name, tiers}`, with each tier's `system` block):
   * what is persisted, and read back after a restart.
   */
  app: { name: string; tiers: Record<string, Record<string, unknown>> };
  /** The same app as typed tiers, put in force as they are (the services in the file's order). */
  tiers: Tier[];
  /** The initial plan, by flat tier name. */
  plan: TierResources;
  warnings: string[];
}

export function systemAppName(name: string, sid: string): string {
  return `${name}-${sid}`;
}

/** Named volumes on the nodes carry the system's prefix, as Compose prefixes them with its project. */
export function systemVolumeName(appName: string, volume: string): string {
  return `${appName}_${volume}`;
}

/**
 * A compose file as an app of the topology. Every service is a tier. Its initial plan is its limits
 * rounded up to whole cores and memory units (at least 1 and 1; no limits means 1 and 1), times its
 * replicas, with `max_node: replicas` unless `x-ecoware.max_node` says otherwise.
 */
export function composeToApp(file: ComposeFile, id: SystemIdentity, memUnitMb: number): SystemApp {
  const appName = systemAppName(id.name, id.sid);
  const warnings: string[] = [];
  const documentTiers: Record<string, Record<string, unknown>> = {};
  const tiers: Tier[] = [];
  const plan: TierResources = {};
  for (const service of file.services) {
    documentTiers[service.name] = tierOf(service, file, id, appName);
    tiers.push(typedTier(service, file, id, appName));
    plan[flatTierName(appName, service.name)] = initialResources(service, memUnitMb, warnings);
  }
  return { appName, app: { name: appName, tiers: documentTiers }, tiers, plan, warnings };
}

/** The system's app as an edit of the topology in force. */
export function systemAppEdit(system: SystemApp): AppEdit {
  return { name: system.appName, tiers: system.tiers, document: system.app };
}

/** The service as the tier the topology holds (what `parseTopology` reads from `tierOf`'s entry). */
function typedTier(service: ComposeService, file: ComposeFile, id: SystemIdentity, appName: string): Tier {
  const field = `services.${service.name}.x-ecoware`;
  const hc = service.healthcheck;
  const system: SystemTier = {
    sid: id.sid,
    namespace: id.namespace,
    service: service.name,
    network: appName,
    entrypoint: service.entrypoint,
    healthcheck: hc ? { ...hc } : undefined,
    publish: service.ports.map((p) => ({ containerPort: p.containerPort, protocol: p.protocol })),
    mounts: service.mounts.map((m): SystemMount => {
      if (m.type === 'bind') return { type: 'bind', source: m.source, target: m.target, readOnly: m.readOnly };
      const declared = file.volumes[m.source];
      return {
        type: 'volume', volume: declared.external ? m.source : systemVolumeName(appName, m.source), target: m.target, readOnly: m.readOnly,
        driver: declared.driver, driverOpts: { ...declared.driverOpts }, external: declared.external,
      };
    }),
    labels: { ...service.labels },
    restart: service.restart ? { policy: service.restart.policy, maxRetries: service.restart.maxRetries } : undefined,
    waitHealthy: Object.entries(service.dependsOn).filter(([, c]) => c === 'service_healthy').map(([dep]) => dep),
  };
  return {
    app: appName,
    tier: service.name,
    flatName: flatTierName(appName, service.name),
    image: service.image,
    maxNode: service.ecoware.maxNode ?? service.replicas,
    dependsOn: [...new Set(Object.keys(service.dependsOn))].map((dep) => flatTierName(appName, dep)),
    onNodeScale: parseHookSpec(service.ecoware.onNodeScale, `${field}.on_node_scale`),
    onDependencyScale: parseHookSpec(service.ecoware.onDependencyScale, `${field}.on_dependency_scale`),
    ports: [],
    environment: { ...service.environment },
    entrypointArgs: service.command ? [...service.command] : [],
    system,
    ...(service.ecoware.nodeSelector ? { nodeSelector: { ...service.ecoware.nodeSelector } } : {}),
  };
}

function tierOf(service: ComposeService, file: ComposeFile, id: SystemIdentity, appName: string): Record<string, unknown> {
  const tier: Record<string, unknown> = {
    docker_image: service.image,
    depends_on: Object.keys(service.dependsOn),
    environment: service.environment,
    max_node: service.ecoware.maxNode ?? service.replicas,
  };
  if (service.command) tier.entrypoint_params = service.command;
  if (service.ecoware.onNodeScale) tier.on_node_scale = service.ecoware.onNodeScale;
  if (service.ecoware.onDependencyScale) tier.on_dependency_scale = service.ecoware.onDependencyScale;
  if (service.ecoware.nodeSelector) tier.node_selector = service.ecoware.nodeSelector;
  const hc = service.healthcheck;
  tier.system = {
    sid: id.sid,
    namespace: id.namespace,
    service: service.name,
    network: appName,
    ...(service.entrypoint ? { entrypoint: service.entrypoint } : {}),
    ...(hc ? {
      healthcheck: dropUndefined({
        test: hc.test, interval_ms: hc.intervalMs, timeout_ms: hc.timeoutMs, start_period_ms: hc.startPeriodMs,
        start_interval_ms: hc.startIntervalMs, retries: hc.retries,
      }),
    } : {}),
    publish: service.ports.map((p) => `${p.containerPort}/${p.protocol}`),
    mounts: service.mounts.map((m) => {
      if (m.type === 'bind') return { type: 'bind', source: m.source, target: m.target, read_only: m.readOnly };
      const declared = file.volumes[m.source];
      return dropUndefined({
        type: 'volume',
        volume: declared.external ? m.source : systemVolumeName(appName, m.source),
        target: m.target,
        read_only: m.readOnly,
        driver: declared.driver,
        driver_opts: declared.driverOpts,
        external: declared.external,
      });
    }),
    labels: service.labels,
    ...(service.restart ? { restart: dropUndefined({ policy: service.restart.policy, max_retries: service.restart.maxRetries }) } : {}),
    wait_healthy: Object.entries(service.dependsOn).filter(([, c]) => c === 'service_healthy').map(([dep]) => dep),
  };
  return tier;
}

function initialResources(service: ComposeService, memUnitMb: number, warnings: string[]): { cpu_cores: number; mem_units: number } {
  const where = `services.${service.name}.deploy.resources.limits`;
  const { cpus, memoryBytes } = service.limits;
  if (cpus === undefined && memoryBytes === undefined) warnings.push(`services.${service.name}: no resource limits, 1 core and 1 memory unit per replica`);
  const cores = cpus === undefined ? 1 : Math.max(1, Math.ceil(cpus));
  if (cpus !== undefined && cores !== cpus) warnings.push(`${where}.cpus: ${cpus} rounded up to ${cores} whole core${cores === 1 ? '' : 's'}`);
  const unitBytes = memUnitMb * MIB;
  const units = memoryBytes === undefined ? 1 : Math.max(1, Math.ceil(memoryBytes / unitBytes));
  if (memoryBytes !== undefined && units * unitBytes !== memoryBytes) {
    warnings.push(`${where}.memory: ${memoryBytes} bytes rounded up to ${units} unit${units === 1 ? '' : 's'} of ${memUnitMb} MiB`);
  }
  return { cpu_cores: cores * service.replicas, mem_units: units * service.replicas };
}

function dropUndefined<T extends Record<string, unknown>>(obj: T): T {
  return Object.fromEntries(Object.entries(obj).filter(([, v]) => v !== undefined)) as T;
}

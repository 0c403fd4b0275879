import { SystemMount, SystemTier } from './system-tier';
import { ValidationError } from './errors';
import { readStringArray } from './json-reader';
import { NodePoolSettings } from './node-settings';
import { ProcessDefinition } from './process-definition';
import { Resources } from './resources';
import { EngineEndpoint } from './vm';
import { VolumeDeclaration } from './volumes';

/** How a hook is given in a tier: a script of the hooks repository, a registered process definition, or one inline. */
export type HookSpec =
  | { kind: 'script'; name: string }
  | { kind: 'process-ref'; id: string }
  | { kind: 'process'; definition: ProcessDefinition };

export type HookEvent = 'on_node_scale' | 'on_dependency_scale';

export interface PortMapping {
  hostPort: number;
  containerPort: number;
  protocol: 'tcp' | 'udp';
  hostIp?: string;
}

export interface Tier {
  app: string;
  /** The tier's key inside its app, e.g. `db`. */
  tier: string;
  /** `<app>_<tier>`: the name in plans, allocations, and the container name. */
  flatName: string;
  displayName?: string;
  image: string;
  /** Cap on the number of containers (VMs); undefined = unlimited. `1` marks a tier that must not be spread or moved. */
  maxNode?: number;
  /** Flat names of the tiers this one depends on (same app). */
  dependsOn: string[];
  onNodeScale?: HookSpec;
  onDependencyScale?: HookSpec;
  ports: PortMapping[];
  environment: Record<string, string>;
  /** Arguments appended to the image's entrypoint; never passed through a shell. */
  entrypointArgs: string[];
  hookTimeoutMs?: number;
  /** Present on tiers made from a compose service (src/schema/compose). */
  system?: SystemTier;
  /** Only nodes whose labels carry every pair may run it; empty = any node. */
  nodeSelector?: Record<string, string>;
  /** Named volumes of `infrastructure.volumes` and allowed host paths, mounted into its containers. */
  volumes?: SystemMount[];
}

export interface App {
  name: string;
  /** Tier keys in the order given. */
  tierNames: string[];
}

export interface StaticNodeConfig {
  name: string;
  /**
   * The node's Docker engine, `unix:///path` or `tcp://host:port` (or `https://host:port` with TLS),
   * when the node names it the original way (`docker`, `docker_cert_path`); else `engine` is set.
   */
  docker?: string;
  /** The node's engine as `engine: {kind, url, cert_path}` names it. */
  engine?: EngineEndpoint;
  /** Address other containers use to reach services published on this node. */
  address?: string;
  cpu_cores?: number;
  mem_units?: number;
  /** Placement labels, matched by tiers' `node_selector`. */
  labels?: Record<string, string>;
  /** Directory with ca.pem, cert.pem, key.pem for a TLS engine (`tcp://…:2376`). */
  dockerCertPath?: string;
}

export interface StaticCloudConfig {
  type: 'static';
  nodes: StaticNodeConfig[];
}

export interface AwsCloudConfig {
  type: 'aws';
  autoscalingGroupName: string;
  region?: string;
  endpoint?: string;
  /** File of KEY=VALUE lines (ecoware style) or an AWS shared credentials/config file; otherwise the standard credential chain. */
  credentialsFile?: string;
  /** Profile of that file, or of the standard chain's shared files (default `default`). */
  profile?: string;
  /** Which instance address reaches its engine and is published to containers. */
  addressType: 'private' | 'public';
  dockerPort: number;
  /** Directory with ca.pem, cert.pem, key.pem (DOCKER_CERT_PATH style); set = TLS. */
  dockerCertPath?: string;
  /** May raise the group's MaxSize when a plan needs more instances than it allows. */
  allowRaiseMaxSize: boolean;
  /** Overall wait for new instances to be InService with an answering engine. */
  instanceReadyTimeoutMs: number;
  /** Attempts per AWS API call, retries (throttling, 5xx, network) included; undefined = the driver's default. */
  apiMaxAttempts?: number;
}

export type CloudConfig = StaticCloudConfig | AwsCloudConfig;

export interface Infrastructure {
  cloud: CloudConfig;
  hooksGitRepo?: string;
  hooksGitRef?: string;
  /** Cron expression for pulling the hooks repository again. */
  hooksRefresh: string;
  /** Size of every VM (and of new ones) unless a node says otherwise. */
  vmSize: Resources;
  memUnitMb: number;
  maxVms?: number;
  /**
   * `job_yield_s` (default 0): how long a plan that needs cores or memory running jobs hold waits
   * for them to end before it fails (`held_by_jobs`). Jobs are never preempted.
   */
  jobYieldMs?: number;
  /**
   * `scale_in_idle_s` (default 300, elastic clouds): a VM with no tier container and no job for this
   * long is released, as an execution of kind `scale`.
   */
  scaleInIdleMs?: number;
  /** Image POD's activities install into when `newActivity` names none (`job_base_image`). */
  jobBaseImage?: string;
  onHookFailure: 'stop' | 'continue';
  /** After a failed plan: leave things as they are (`stop`) or return to where it started (`rollback`). */
  onFailure: 'stop' | 'rollback';
  hookTimeoutMs: number;
  nodePool: NodePoolSettings;
  /** Named volumes tiers may mount (docs/nodes.md "Volumes"). */
  volumes: Record<string, VolumeDeclaration>;
}

export interface Topology {
  infrastructure: Infrastructure;
  apps: App[];
  /** Every tier by flat name, apps in order, tiers in the order given. */
  tiers: Map<string, Tier>;
  /** The document as accepted, returned by GET /api/topology and persisted. */
  raw: Record<string, unknown>;
}

export const DEFAULT_MEM_UNIT_MB = 512;
export const DEFAULT_JOB_YIELD_MS = 0;
export const DEFAULT_SCALE_IN_IDLE_MS = 300_000;
export const DEFAULT_HOOK_TIMEOUT_MS = 60_000;
export const DEFAULT_HOOKS_REFRESH = '*/5 * * * *';
export const DEFAULT_DOCKER_HOST = 'unix:///var/run/docker.sock';

export interface TopologyDefaults {
  /** Docker endpoint of the implicit `local` node when the topology names no cloud driver. */
  localDocker: string;
  /** Host paths tiers may mount only under this directory (`--allow-bind`); none = no host paths. */
  allowBindRoot?: string;
  /**
   * A document accepted before (the persisted topology, at start): image references are taken as
   * written, since they were not always checked. A tier whose image no engine accepts fails when one
   * of its containers is created, as it did when it was accepted; the rest of the topology is served.
   */
  restoring?: boolean;
}

/** Docker-style `[ip:]host:container[/proto]` or a bare container port (published on the same host port). */
export function parsePort(spec: string, field: string): PortMapping {
  const m = /^(?:(\d{1,3}(?:\.\d{1,3}){3}):)?(?:(\d+):)?(\d+)(?:\/(tcp|udp))?$/.exec(spec);
  if (!m) throw new ValidationError(field, `'${spec}' is not a port mapping (host:container[/tcp|udp])`);
  if (m[1] !== undefined && m[1].split('.').some((octet) => Number(octet) > 255)) {
    throw new ValidationError(field, `'${m[1]}' is not an IPv4 address`);
  }
  const containerPort = Number(m[3]);
  const hostPort = m[2] === undefined ? containerPort : Number(m[2]);
  for (const port of [hostPort, containerPort]) {
    if (port < 1 || port > 65535) throw new ValidationError(field, `port ${port} is out of range 1-65535`);
  }
  return { hostIp: m[1], hostPort, containerPort, protocol: (m[4] as 'tcp' | 'udp' | undefined) ?? 'tcp' };
}

/**
 * Splits `entrypoint_params` into arguments the way a POSIX shell splits words (single and double
 * quotes, backslash escapes), without expanding anything: the arguments reach the container verbatim.
 * An array is taken as already split.
 */
export function parseEntrypointParams(value: unknown, field: string): string[] {
  if (Array.isArray(value)) return readStringArray(value, field);
  if (typeof value !== 'string') throw new ValidationError(field, 'must be a string or an array of strings');
  const args: string[] = [];
  let current = '';
  let inWord = false;
  let quote: '"' | "'" | undefined;
  for (let i = 0; i < value.length; i++) {
    const c = value[i];
    if (quote) {
      if (c === quote) quote = undefined;
      else if (c === '\\' && quote === '"' && i + 1 < value.length && '"\\$`'.includes(value[i + 1])) current += value[++i];
      else current += c;
    } else if (c === '"' || c === "'") {
      quote = c;
      inWord = true;
    } else if (c === '\\' && i + 1 < value.length) {
      current += value[++i];
      inWord = true;
    } else if (/\s/.test(c)) {
      if (inWord) args.push(current);
      current = '';
      inWord = false;
    } else {
      current += c;
      inWord = true;
    }
  }
  if (quote) throw new ValidationError(field, `unterminated ${quote} quote`);
  if (inWord) args.push(current);
  return args;
}

/** Refuses an app whose tiers depend on each other in a circle. */
export function assertAcyclic(app: string, tiers: Tier[], field: string): void {
  const byName = new Map(tiers.map((t) => [t.flatName, t]));
  const state = new Map<string, 'visiting' | 'done'>();
  const visit = (t: Tier, path: string[]): void => {
    const s = state.get(t.flatName);
    if (s === 'done') return;
    if (s === 'visiting') {
      const cycle = [...path.slice(path.indexOf(t.tier)), t.tier].join(' -> ');
      throw new ValidationError(field, `dependency cycle in app '${app}': ${cycle}`);
    }
    state.set(t.flatName, 'visiting');
    for (const dep of t.dependsOn) visit(byName.get(dep)!, [...path, t.tier]);
    state.set(t.flatName, 'done');
  };
  for (const t of tiers) visit(t, []);
}

/**
 * Tiers in dependency order: level 0 depends on nothing, level n on tiers of levels below n.
 * Every tier appears exactly once.
 */
export function dependencyLevels(topology: Topology): Map<string, number> {
  const levels = new Map<string, number>();
  const levelOf = (flat: string): number => {
    const known = levels.get(flat);
    if (known !== undefined) return known;
    const tier = topology.tiers.get(flat)!;
    const level = tier.dependsOn.length === 0 ? 0 : 1 + Math.max(...tier.dependsOn.map(levelOf));
    levels.set(flat, level);
    return level;
  };
  for (const flat of topology.tiers.keys()) levelOf(flat);
  return levels;
}

/** The tiers that depend directly on `flat`. */
export function dependentsOf(topology: Topology, flat: string): Tier[] {
  return [...topology.tiers.values()].filter((t) => t.dependsOn.includes(flat));
}

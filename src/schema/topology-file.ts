import { ValidationError } from '../domain/errors';
import {
  isPlainObject, readObject, readOptionalInteger, readOptionalString,
  MAX_SECONDS, readOptionalSecondsAsMs, readString, readStringArray, readStringMap,
} from '../domain/json-reader';
import { flatTierName, isValidName, readImageReference } from '../domain/names';
import { parseLabels, parseNodePoolSettings } from '../domain/node-settings';
import { parseSystemTier } from './system-tier-block';
import {
  App, assertAcyclic, AwsCloudConfig, CloudConfig, DEFAULT_DOCKER_HOST, DEFAULT_HOOK_TIMEOUT_MS, DEFAULT_HOOKS_REFRESH,
  DEFAULT_JOB_YIELD_MS, DEFAULT_MEM_UNIT_MB, DEFAULT_SCALE_IN_IDLE_MS, HookSpec, Infrastructure, parseEntrypointParams, parsePort, StaticCloudConfig, StaticNodeConfig, Tier,
  Topology, TopologyDefaults,
} from '../domain/topology';
import { EngineKind, ENGINE_KINDS } from '../domain/vm';
import { isCronExpression } from '../domain/cron-expression';
import { parseTierVolumes, parseVolumeDeclarations } from '../domain/volumes';
import { parseProcessDefinition } from './process-definition';
import { absentOr, nonEmptyString, readShape, wholeNumber } from './shape';
import { z } from 'zod';

/**
 * Reads a topology document (PUT /api/topology, the persisted topology at start): every field
 * checked, every mistake named by its path (`apps[0].tiers.db.max_node`).
 */
export function parseTopology(input: unknown, defaults: TopologyDefaults = { localDocker: DEFAULT_DOCKER_HOST }): Topology {
  const root = readObject(input, '');
  const infrastructure = parseInfrastructure(root.infrastructure, defaults);
  if (!Array.isArray(root.apps)) throw new ValidationError('apps', 'must be an array of apps');

  const apps: App[] = [];
  const tiers = new Map<string, Tier>();
  const appNames = new Set<string>();
  root.apps.forEach((appValue, i) => {
    const field = `apps[${i}]`;
    const appObj = readObject(appValue, field);
    const name = readName(appObj.name, `${field}.name`);
    if (appNames.has(name)) throw new ValidationError(`${field}.name`, `duplicate app name '${name}'`);
    appNames.add(name);
    const tiersObj = readObject(appObj.tiers, `${field}.tiers`);
    const tierNames = Object.keys(tiersObj);
    for (const tierName of tierNames) {
      const tier = parseTier(name, tierName, tiersObj[tierName], `${field}.tiers.${tierName}`, new Set(tierNames), defaults);
      const volumes = parseTierVolumes(readObject(tiersObj[tierName], `${field}.tiers.${tierName}`).volumes, `${field}.tiers.${tierName}.volumes`,
        infrastructure.volumes, defaults.allowBindRoot);
      if (volumes.length > 0) tier.volumes = volumes;
      if (tiers.has(tier.flatName)) {
        throw new ValidationError(`${field}.tiers.${tierName}`, `flat name '${tier.flatName}' collides with another tier`);
      }
      tiers.set(tier.flatName, tier);
    }
    apps.push({ name, tierNames });
    assertAcyclic(name, tierNames.map((t) => tiers.get(flatTierName(name, t))!), `${field}.tiers`);
  });

  return { infrastructure, apps, tiers, raw: root };
}

/** App, tier and node names become container and host names: a DNS label's 63 characters at most. */
export const MAX_NAME_LENGTH = 63;
/** Bounds of sizes a topology may state: far above any real machine, far below what breaks arithmetic. */
const MAX_CORES = 4096;
const MAX_UNITS = 1_048_576;
const MAX_UNIT_MB = 1_048_576;

function readName(value: unknown, field: string): string {
  const name = readString(value, field);
  if (name.length > MAX_NAME_LENGTH) throw new ValidationError(field, `'${name.slice(0, 20)}…' is longer than ${MAX_NAME_LENGTH} characters`);
  if (!isValidName(name)) throw new ValidationError(field, `'${name}' is not a valid name ([A-Za-z0-9][A-Za-z0-9_.-]*)`);
  return name;
}

const choice = <T extends string>(fallback: T, allowed: readonly T[], problem: string) =>
  z.unknown().transform((v) => v ?? fallback).refine((v): v is T => (allowed as readonly unknown[]).includes(v), problem) as unknown as z.ZodType<T, z.ZodTypeDef, unknown>;
const positiveSeconds = `must be a positive number of seconds, at most ${MAX_SECONDS}`;
/** A positive duration in seconds, at most a day. */
const seconds = () => z.number({ invalid_type_error: positiveSeconds }).finite(positiveSeconds).positive(positiveSeconds).max(MAX_SECONDS, positiveSeconds);

/** The `infrastructure` block's own fields; the cloud, the node pool and the volumes are read after. */
const INFRASTRUCTURE = z.object({
  cpu_cores: wholeNumber({ min: 1, max: MAX_CORES }),
  mem_units: wholeNumber({ min: 1, max: MAX_UNITS }),
  on_hook_failure: choice<'stop' | 'continue'>('stop', ['stop', 'continue'], "must be 'stop' or 'continue'"),
  on_failure: choice<'stop' | 'rollback'>('stop', ['stop', 'rollback'], "must be 'stop' or 'rollback'"),
  // Refused here, before anything is persisted or put in force, by the grammar the schedule runs on.
  hooks_refresh: absentOr(nonEmptyString().refine(isCronExpression, (v) => ({
    message: `'${v}' is not a cron expression the refresh schedule can run (e.g. '*/5 * * * *')`,
  }))),
  hooks_git_repo: absentOr(nonEmptyString()),
  hooks_git_ref: absentOr(nonEmptyString()),
  mem_unit_mb: absentOr(wholeNumber({ min: 4, max: MAX_UNIT_MB })),
  max_vms: absentOr(wholeNumber({ min: 1, max: 100_000 })),
  hook_timeout_s: absentOr(seconds()),
  job_yield_s: absentOr(z.number({ invalid_type_error: 'must be a number of seconds (0 or more)' }).finite().min(0, 'must be 0 or more seconds').max(MAX_SECONDS, `must be at most ${MAX_SECONDS} seconds`)),
  scale_in_idle_s: absentOr(seconds()),
  job_base_image: absentOr(nonEmptyString()),
}, { invalid_type_error: 'must be an object', required_error: 'must be an object' });

function parseInfrastructure(value: unknown, defaults: TopologyDefaults): Infrastructure {
  const infra = readShape(INFRASTRUCTURE, value, 'infrastructure');
  const obj = value as Record<string, unknown>;
  const f = (k: string) => `infrastructure.${k}`;
  return {
    cloud: parseCloud(obj.cloud_driver, f('cloud_driver'), defaults),
    hooksGitRepo: infra.hooks_git_repo,
    hooksGitRef: infra.hooks_git_ref,
    hooksRefresh: infra.hooks_refresh ?? DEFAULT_HOOKS_REFRESH,
    vmSize: { cpu_cores: infra.cpu_cores, mem_units: infra.mem_units },
    memUnitMb: infra.mem_unit_mb ?? DEFAULT_MEM_UNIT_MB,
    maxVms: infra.max_vms,
    jobYieldMs: infra.job_yield_s === undefined ? DEFAULT_JOB_YIELD_MS : Math.round(infra.job_yield_s * 1000),
    scaleInIdleMs: infra.scale_in_idle_s === undefined ? DEFAULT_SCALE_IN_IDLE_MS : Math.round(infra.scale_in_idle_s * 1000),
    onHookFailure: infra.on_hook_failure,
    onFailure: infra.on_failure,
    hookTimeoutMs: infra.hook_timeout_s === undefined ? DEFAULT_HOOK_TIMEOUT_MS : Math.round(infra.hook_timeout_s * 1000),
    nodePool: parseNodePoolSettings(obj, f),
    volumes: parseVolumeDeclarations(obj.volumes, f('volumes')),
    ...(infra.job_base_image !== undefined ? { jobBaseImage: infra.job_base_image } : {}),
  };
}

function parseCloud(value: unknown, field: string, defaults: TopologyDefaults): CloudConfig {
  if (value === undefined || value === null) {
    return { type: 'static', nodes: [{ name: 'local', docker: defaults.localDocker }] };
  }
  const obj = readObject(value, field);
  const type = obj.type ?? (obj.autoscaling_groupname !== undefined ? 'aws' : undefined);
  if (type === 'static') return parseStaticCloud(obj, field);
  if (type === 'aws') return parseAwsCloud(obj, field);
  throw new ValidationError(`${field}.type`, "must be 'static' or 'aws' (or give autoscaling_groupname)");
}

const nodeObject = <T extends z.ZodRawShape>(shape: T) => z.object(shape, { invalid_type_error: 'must be an object', required_error: 'must be an object' });
/**
 * A node of a static pool, in the order its mistakes are named: the name (then whether it is taken,
 * then the engine, by hand), then the address and sizes, then the labels (by hand).
 */
const STATIC_NODE_NAME = nodeObject({
  name: nonEmptyString()
    .refine((name) => name.length <= MAX_NAME_LENGTH, (name) => ({ message: `'${name.slice(0, 20)}…' is longer than ${MAX_NAME_LENGTH} characters` }))
    .refine(isValidName, (name) => ({ message: `'${name}' is not a valid name ([A-Za-z0-9][A-Za-z0-9_.-]*)` })),
});
const STATIC_NODE_SIZES = nodeObject({
  address: absentOr(nonEmptyString()),
  cpu_cores: absentOr(wholeNumber({ min: 1, max: MAX_CORES })),
  mem_units: absentOr(wholeNumber({ min: 1, max: MAX_UNITS })),
});

function parseStaticCloud(obj: Record<string, unknown>, field: string): StaticCloudConfig {
  if (!Array.isArray(obj.nodes) || obj.nodes.length === 0) throw new ValidationError(`${field}.nodes`, 'must be a non-empty array of nodes');
  const seen = new Set<string>();
  const nodes = obj.nodes.map((nodeValue, i): StaticNodeConfig => {
    const nf = `${field}.nodes[${i}]`;
    const { name } = readShape(STATIC_NODE_NAME, nodeValue, nf);
    if (seen.has(name)) throw new ValidationError(`${nf}.name`, `duplicate node name '${name}'`);
    seen.add(name);
    const raw = nodeValue as Record<string, unknown>;
    const engine = parseNodeEngine(raw, nf);
    const sizes = readShape(STATIC_NODE_SIZES, raw, nf);
    return {
      name,
      ...engine,
      address: sizes.address,
      cpu_cores: sizes.cpu_cores,
      mem_units: sizes.mem_units,
      ...(raw.labels !== undefined ? { labels: parseLabels(raw.labels, `${nf}.labels`) } : {}),
    };
  });
  return { type: 'static', nodes };
}

/**
 * A node's engine: `engine: {kind, url, cert_path}`, or the original `docker` (a Docker endpoint)
 * with `docker_cert_path`; one form or the other.
 */
function parseNodeEngine(node: Record<string, unknown>, nf: string): Pick<StaticNodeConfig, 'docker' | 'dockerCertPath' | 'engine'> {
  if (node.engine === undefined) {
    return {
      docker: readDockerUrl(node.docker, `${nf}.docker`),
      ...(node.docker_cert_path !== undefined ? { dockerCertPath: readOptionalString(node.docker_cert_path, `${nf}.docker_cert_path`) } : {}),
    };
  }
  for (const key of ['docker', 'docker_cert_path']) {
    if (node[key] !== undefined) throw new ValidationError(`${nf}.${key}`, "give the node's engine either as 'engine' or as 'docker', not both");
  }
  const engine = readObject(node.engine, `${nf}.engine`);
  const kind = engine.kind ?? 'docker';
  if (!ENGINE_KINDS.includes(kind as EngineKind)) {
    throw new ValidationError(`${nf}.engine.kind`, `must be one of ${ENGINE_KINDS.map((k) => `'${k}'`).join(', ')}`);
  }
  const certPath = readOptionalString(engine.cert_path, `${nf}.engine.cert_path`);
  return { engine: { kind: kind as EngineKind, url: readDockerUrl(engine.url, `${nf}.engine.url`), ...(certPath !== undefined ? { certPath } : {}) } };
}

function readDockerUrl(value: unknown, field: string): string {
  const url = readString(value, field);
  if (!/^(unix:\/\/\/.+|tcp:\/\/[^/]+:\d+\/?|https?:\/\/[^/]+:\d+\/?)$/.test(url)) {
    throw new ValidationError(field, `'${url}' is not a Docker endpoint (unix:///path or tcp://host:port)`);
  }
  return url;
}

/** An Auto Scaling group's cloud (`type: aws`, or a block that names `autoscaling_groupname`). */
const AWS_CLOUD = z.object({
  address: choice<'private' | 'public'>('private', ['private', 'public'], "must be 'private' or 'public'"),
  docker_cert_path: absentOr(nonEmptyString()),
  autoscaling_groupname: nonEmptyString(),
  region: absentOr(nonEmptyString()),
  endpoint: absentOr(nonEmptyString()),
  credentials: absentOr(nonEmptyString()),
  profile: absentOr(nonEmptyString()),
  docker_port: absentOr(wholeNumber({ min: 1, max: 65535 })),
  allow_raise_max_size: z.boolean({ invalid_type_error: 'must be true or false' }).optional(),
  instance_ready_timeout_s: absentOr(seconds()),
  api_max_attempts: absentOr(wholeNumber({ min: 1, max: 20 })),
});

function parseAwsCloud(obj: Record<string, unknown>, field: string): AwsCloudConfig {
  const aws = readShape(AWS_CLOUD, obj, field);
  return {
    type: 'aws',
    autoscalingGroupName: aws.autoscaling_groupname,
    region: aws.region,
    endpoint: aws.endpoint,
    credentialsFile: aws.credentials,
    profile: aws.profile,
    addressType: aws.address,
    dockerPort: aws.docker_port ?? (aws.docker_cert_path ? 2376 : 2375),
    dockerCertPath: aws.docker_cert_path,
    allowRaiseMaxSize: aws.allow_raise_max_size ?? false,
    instanceReadyTimeoutMs: aws.instance_ready_timeout_s === undefined ? 600_000 : Math.round(aws.instance_ready_timeout_s * 1000),
    apiMaxAttempts: aws.api_max_attempts,
  };
}

function parseTier(app: string, tierName: string, value: unknown, field: string, siblings: Set<string>, defaults: TopologyDefaults): Tier {
  if (tierName.length > MAX_NAME_LENGTH) throw new ValidationError(`${field.slice(0, field.length - tierName.length)}${tierName.slice(0, 20)}…`, `tier name is longer than ${MAX_NAME_LENGTH} characters`);
  if (!isValidName(tierName)) throw new ValidationError(field, `'${tierName}' is not a valid tier name ([A-Za-z0-9][A-Za-z0-9_.-]*)`);
  const obj = readObject(value, field);
  const dependsOnNames = obj.depends_on === undefined ? [] : readStringArray(obj.depends_on, `${field}.depends_on`);
  dependsOnNames.forEach((dep, i) => {
    if (!siblings.has(dep)) throw new ValidationError(`${field}.depends_on[${i}]`, `'${dep}' is not a tier of app '${app}'`);
    if (dep === tierName) throw new ValidationError(`${field}.depends_on[${i}]`, `tier '${tierName}' cannot depend on itself`);
  });
  return {
    app,
    tier: tierName,
    flatName: flatTierName(app, tierName),
    displayName: readOptionalString(obj.name, `${field}.name`),
    image: defaults.restoring ? readString(obj.docker_image, `${field}.docker_image`) : readImageReference(obj.docker_image, `${field}.docker_image`),
    maxNode: readOptionalInteger(obj.max_node, `${field}.max_node`, { min: 1, max: 100_000 }),
    dependsOn: [...new Set(dependsOnNames)].map((dep) => flatTierName(app, dep)),
    onNodeScale: parseHookSpec(obj.on_node_scale, `${field}.on_node_scale`),
    onDependencyScale: parseHookSpec(obj.on_dependency_scale, `${field}.on_dependency_scale`),
    ports: obj.ports === undefined ? [] : readStringArray(obj.ports, `${field}.ports`).map((p, i) => parsePort(p, `${field}.ports[${i}]`)),
    environment: obj.environment === undefined ? {} : readStringMap(obj.environment, `${field}.environment`),
    entrypointArgs: obj.entrypoint_params === undefined ? [] : parseEntrypointParams(obj.entrypoint_params, `${field}.entrypoint_params`),
    hookTimeoutMs: readOptionalSecondsAsMs(obj.hook_timeout_s, `${field}.hook_timeout_s`),
    system: parseSystemTier(obj.system, `${field}.system`),
    ...(obj.node_selector !== undefined ? { nodeSelector: parseLabels(obj.node_selector, `${field}.node_selector`) } : {}),
  };
}

export function parseHookSpec(value: unknown, field: string): HookSpec | undefined {
  if (value === undefined || value === null) return undefined;
  if (isPlainObject(value)) return { kind: 'process', definition: parseProcessDefinition(value, field) };
  const name = readString(value, field);
  if (name.startsWith('process:')) {
    const id = name.slice('process:'.length);
    if (!isValidName(id)) throw new ValidationError(field, `'${id}' is not a valid process definition id`);
    return { kind: 'process-ref', id };
  }
  if (name.includes('/') || name.includes('\\') || name.includes('..') || !isValidName(name)) {
    throw new ValidationError(field, `hook name '${name}' must be a plain file name (no path separator or '..')`);
  }
  return { kind: 'script', name };
}


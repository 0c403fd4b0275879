import { parseDocument } from 'yaml';
import { ValidationError } from '../../domain/errors';
import { isPlainObject, readString, readStringMap } from '../../domain/json-reader';
import { isValidName, readImageReference } from '../../domain/names';
import { allowedHostPath } from '../../domain/volumes';
import { parseEntrypointParams } from '../../domain/topology';
import { interpolateDocument } from './interpolate';
import { MAX_DURATION_MS, MAX_HEALTHCHECK_RETRIES, SystemHealthcheck } from '../../domain/system-tier';

/**
 * The supported subset of the Compose specification, read by hand: every key is either honoured,
 * ignored with a warning (where Compose or Tycho's clients add it without effect), or refused with a
 * ValidationError naming its path (`services.web.privileged`). Nothing here does I/O.
 */
export interface ComposeFile {
  /** Top-level `name`, if given. */
  name?: string;
  /** In the order of the file. */
  services: ComposeService[];
  volumes: Record<string, ComposeVolume>;
  warnings: string[];
}

export interface ComposeVolume {
  driver?: string;
  driverOpts: Record<string, string>;
  labels: Record<string, string>;
  /** Created outside the system: used under its own name, never created or removed. */
  external: boolean;
}

export type DependencyCondition = 'service_started' | 'service_healthy';

export interface ComposePort {
  containerPort: number;
  protocol: 'tcp' | 'udp';
}

export type ComposeMount =
  | { type: 'volume'; source: string; target: string; readOnly: boolean }
  | { type: 'bind'; source: string; target: string; readOnly: boolean };

/** The tier made from the service carries the healthcheck as it is. */
export type ComposeHealthcheck = SystemHealthcheck;

export interface ComposeRestart {
  policy: 'no' | 'always' | 'on-failure' | 'unless-stopped';
  maxRetries?: number;
}

export interface ComposeService {
  name: string;
  image: string;
  command?: string[];
  entrypoint?: string[];
  environment: Record<string, string>;
  ports: ComposePort[];
  mounts: ComposeMount[];
  dependsOn: Record<string, DependencyCondition>;
  /** Undefined when the service has none or disables it. */
  healthcheck?: ComposeHealthcheck;
  limits: { cpus?: number; memoryBytes?: number };
  replicas: number;
  labels: Record<string, string>;
  restart?: ComposeRestart;
  ecoware: {
    maxNode?: number;
    onNodeScale?: string;
    onDependencyScale?: string;
    nodeSelector?: Record<string, string>;
  };
}

export interface ComposeOptions {
  /** Variables for interpolation (the request's `env`). */
  env: Readonly<Record<string, string>>;
  /** Accept, with a warning, the keys Tycho's own clients add (`/system/*` routes). */
  tycho?: boolean;
  /** Host paths may be bound only under this directory; none = no host paths at all. */
  allowBindRoot?: string;
}

const TOP_LEVEL_KEYS = ['name', 'services', 'volumes', 'version'];
const TYCHO_TOP_LEVEL_KEYS = ['security_context'];
const SERVICE_KEYS = ['image', 'command', 'entrypoint', 'environment', 'ports', 'volumes', 'depends_on', 'healthcheck', 'deploy', 'labels', 'restart', 'x-ecoware'];
const TYCHO_SERVICE_KEYS = ['ext', 'conn_string', 'proxy_rewrite', 'gitea_integration'];
/** Keys of Compose that would change what runs in ways the executor does not do; named in the refusal. */
const REFUSED_WHY: Record<string, string> = {
  privileged: 'privileged containers are not allowed',
  network_mode: 'containers of a system share the system network; network_mode is not supported',
  pid: 'sharing the host PID namespace is not allowed',
  ipc: 'sharing the host IPC namespace is not allowed',
  devices: 'device access is not allowed',
  cap_add: 'adding capabilities is not allowed',
  build: 'images are not built here; give an image',
  container_name: 'the executor names containers itself',
  cpuset: 'the executor pins cores itself',
  extends: 'extends is not supported',
  secrets: 'secrets are not supported',
  configs: 'configs are not supported',
  profiles: 'profiles are not supported',
  env_file: 'env files are not read on the daemon; pass the variables in env',
  networks: 'services of a system share one network; custom networks are not supported',
  include: 'include is not supported',
};

/** Compose's project names: lower case letters, digits, dashes and underscores. */
export const SYSTEM_NAME_PATTERN = /^[a-z0-9][a-z0-9_-]*$/;
export const MAX_SYSTEM_NAME_LENGTH = 40;

/** Reads a compose file given as YAML text or as an already parsed object. */
export function parseCompose(input: unknown, options: ComposeOptions): ComposeFile {
  const warnings: string[] = [];
  const parsed = typeof input === 'string' ? parseYaml(input) : input;
  if (!isPlainObject(parsed)) throw new ValidationError('compose', 'must be a Compose file (YAML text or an object)');
  const root = interpolateDocument(parsed, options.env, '', warnings) as Record<string, unknown>;

  for (const key of Object.keys(root)) {
    if (key.startsWith('x-') || TOP_LEVEL_KEYS.includes(key)) continue;
    if (options.tycho && TYCHO_TOP_LEVEL_KEYS.includes(key)) { warnings.push(`${key}: ignored`); continue; }
    throw refused(key, key);
  }
  if (root.version !== undefined) warnings.push('version: obsolete, ignored');
  const name = root.name === undefined ? undefined : readSystemName(root.name, 'name');

  const volumes = readVolumes(root.volumes);
  if (!isPlainObject(root.services) || Object.keys(root.services).length === 0) {
    throw new ValidationError('services', 'must be a map of at least one service');
  }
  const serviceNames = Object.keys(root.services);
  const services = serviceNames.map((svc) => readService(svc, (root.services as Record<string, unknown>)[svc], volumes, options, warnings));
  checkDependencies(services);
  return { name, services, volumes, warnings };
}

function parseYaml(text: string): unknown {
  const doc = parseDocument(text, { uniqueKeys: true, merge: true });
  if (doc.errors.length > 0) {
    const e = doc.errors[0];
    const where = e.linePos?.[0] ? ` (line ${e.linePos[0].line}, column ${e.linePos[0].col})` : '';
    throw new ValidationError('compose', `not valid YAML${where}: ${e.message.split('\n')[0]}`);
  }
  try {
    return doc.toJS({ maxAliasCount: 100 });
  } catch (e) {
    // Aliases that expand past the limit (a "billion laughs" file) are refused while they are resolved.
    throw new ValidationError('compose', `not valid YAML: ${e instanceof Error ? e.message : String(e)}`);
  }
}

export function readSystemName(value: unknown, field: string): string {
  if (typeof value !== 'string' || !SYSTEM_NAME_PATTERN.test(value) || value.length > MAX_SYSTEM_NAME_LENGTH) {
    throw new ValidationError(field, `must be lower-case letters, digits, '-' and '_', starting with a letter or digit, at most ${MAX_SYSTEM_NAME_LENGTH} characters`);
  }
  return value;
}

function refused(key: string, path: string): ValidationError {
  return new ValidationError(path, REFUSED_WHY[key] ?? 'unknown or unsupported key');
}

function checkKeys(obj: Record<string, unknown>, allowed: string[], path: string): void {
  for (const key of Object.keys(obj)) {
    if (!allowed.includes(key) && !key.startsWith('x-')) throw refused(key, `${path}.${key}`);
  }
}

function readVolumes(value: unknown): Record<string, ComposeVolume> {
  if (value === undefined || value === null) return {};
  if (!isPlainObject(value)) throw new ValidationError('volumes', 'must be a map of named volumes');
  const out: Record<string, ComposeVolume> = {};
  for (const [name, v] of Object.entries(value)) {
    const path = `volumes.${name}`;
    if (!isValidName(name)) throw new ValidationError(path, `'${name}' is not a valid volume name`);
    const obj = v === null || v === undefined ? {} : object(v, path);
    checkKeys(obj, ['driver', 'driver_opts', 'labels', 'external', 'name'], path);
    if (obj.name !== undefined) throw new ValidationError(`${path}.name`, 'volume names are chosen by the executor (<system>_<volume>)');
    out[name] = {
      driver: obj.driver === undefined ? undefined : readString(obj.driver, `${path}.driver`),
      driverOpts: stringMap(obj.driver_opts, `${path}.driver_opts`),
      labels: labels(obj.labels, `${path}.labels`),
      external: obj.external === undefined ? false : boolean(obj.external, `${path}.external`),
    };
  }
  return out;
}

function readService(name: string, value: unknown, volumes: Record<string, ComposeVolume>, options: ComposeOptions, warnings: string[]): ComposeService {
  const path = `services.${name}`;
  if (!isValidName(name)) throw new ValidationError(path, `'${name}' is not a valid service name ([A-Za-z0-9][A-Za-z0-9_.-]*)`);
  const obj = object(value, path);
  for (const key of Object.keys(obj)) {
    if (SERVICE_KEYS.includes(key) || key.startsWith('x-')) continue;
    if (options.tycho && TYCHO_SERVICE_KEYS.includes(key)) { warnings.push(`${path}.${key}: ignored`); continue; }
    throw refused(key, `${path}.${key}`);
  }
  if (obj.image === undefined) throw new ValidationError(`${path}.image`, 'is required');
  const deploy = readDeploy(obj.deploy, `${path}.deploy`, options, warnings);
  return {
    name,
    image: readImageReference(obj.image, `${path}.image`),
    command: obj.command === undefined || obj.command === null ? undefined : parseEntrypointParams(obj.command, `${path}.command`),
    entrypoint: obj.entrypoint === undefined || obj.entrypoint === null ? undefined : parseEntrypointParams(obj.entrypoint, `${path}.entrypoint`),
    environment: readEnvironment(obj.environment, `${path}.environment`, options.env),
    ports: readPorts(obj.ports, `${path}.ports`, warnings),
    mounts: readMounts(obj.volumes, `${path}.volumes`, volumes, options.allowBindRoot),
    dependsOn: readDependsOn(obj.depends_on, `${path}.depends_on`),
    healthcheck: readHealthcheck(obj.healthcheck, `${path}.healthcheck`),
    limits: deploy.limits,
    replicas: deploy.replicas,
    labels: labels(obj.labels, `${path}.labels`),
    restart: obj.restart === undefined ? undefined : readRestart(obj.restart, `${path}.restart`),
    ecoware: readEcoware(obj['x-ecoware'], `${path}.x-ecoware`),
  };
}

function readEnvironment(value: unknown, path: string, env: Readonly<Record<string, string>>): Record<string, string> {
  if (value === undefined || value === null) return {};
  const out: Record<string, string> = {};
  if (Array.isArray(value)) {
    value.forEach((item, i) => {
      const entry = readString(item, `${path}[${i}]`);
      const eq = entry.indexOf('=');
      // `KEY` alone takes the value from the variables, or leaves KEY out.
      if (eq < 0) { if (env[entry] !== undefined) out[entry] = env[entry]; }
      else out[entry.slice(0, eq)] = entry.slice(eq + 1);
    });
    return out;
  }
  for (const [key, v] of Object.entries(object(value, path))) {
    if (v === null || v === undefined) { if (env[key] !== undefined) out[key] = env[key]; continue; }
    out[key] = scalar(v, `${path}.${key}`);
  }
  return out;
}

/** `[HOST:]CONTAINER[/PROTO]` or the long form; the host part is the daemon's to choose. */
function readPorts(value: unknown, path: string, warnings: string[]): ComposePort[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) throw new ValidationError(path, 'must be a list of ports');
  const ports = value.map((item, i): ComposePort => {
    const where = `${path}[${i}]`;
    if (isPlainObject(item)) {
      checkKeys(item, ['target', 'published', 'host_ip', 'protocol', 'mode', 'app_protocol', 'name'], where);
      if (item.published !== undefined) warnings.push(`${where}.published: ignored, the daemon chooses host ports`);
      const protocol = item.protocol === undefined ? 'tcp' : readString(item.protocol, `${where}.protocol`);
      if (protocol !== 'tcp' && protocol !== 'udp') throw new ValidationError(`${where}.protocol`, "must be 'tcp' or 'udp'");
      return { containerPort: portNumber(item.target, `${where}.target`), protocol };
    }
    const spec = typeof item === 'number' ? String(item) : readString(item, where);
    const m = /^(?:(?:\[[^\]]*\]|[^:/]*):)?(?:([^:/]*):)?([^:/]+)(?:\/(tcp|udp))?$/.exec(spec);
    if (!m) throw new ValidationError(where, `'${spec}' is not a port ([HOST:]CONTAINER[/tcp|udp])`);
    if (/-/.test(m[2])) throw new ValidationError(where, `port ranges are not supported ('${spec}')`);
    if (spec.includes(':')) warnings.push(`${where}: the host part of '${spec}' is ignored, the daemon chooses host ports`);
    return { containerPort: portNumber(m[2], where), protocol: (m[3] as 'tcp' | 'udp' | undefined) ?? 'tcp' };
  });
  const seen = new Set<string>();
  ports.forEach((p, i) => {
    const key = `${p.containerPort}/${p.protocol}`;
    if (seen.has(key)) throw new ValidationError(`${path}[${i}]`, `container port ${key} is published twice`);
    seen.add(key);
  });
  return ports;
}

function portNumber(value: unknown, path: string): number {
  const n = typeof value === 'number' ? value : typeof value === 'string' && /^\d+$/.test(value) ? Number(value) : NaN;
  if (!Number.isInteger(n) || n < 1 || n > 65535) throw new ValidationError(path, 'must be a port number 1-65535');
  return n;
}

function readMounts(value: unknown, path: string, volumes: Record<string, ComposeVolume>, allowBindRoot: string | undefined): ComposeMount[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) throw new ValidationError(path, 'must be a list of volumes');
  const targets = new Set<string>();
  return value.map((item, i) => {
    const where = `${path}[${i}]`;
    let source: string | undefined;
    let target: string;
    let readOnly = false;
    let type: string | undefined;
    if (isPlainObject(item)) {
      checkKeys(item, ['type', 'source', 'target', 'read_only'], where);
      type = readString(item.type, `${where}.type`);
      if (type !== 'volume' && type !== 'bind') throw new ValidationError(`${where}.type`, "must be 'volume' or 'bind'");
      source = item.source === undefined ? undefined : readString(item.source, `${where}.source`);
      target = readString(item.target, `${where}.target`);
      readOnly = item.read_only === undefined ? false : boolean(item.read_only, `${where}.read_only`);
    } else {
      const parts = readString(item, where).split(':');
      if (parts.length > 3) throw new ValidationError(where, `'${item}' is not SOURCE:TARGET[:ro|rw]`);
      if (parts.length === 1) [target] = parts;
      else [source, target] = parts;
      if (parts.length === 3) {
        if (parts[2] !== 'ro' && parts[2] !== 'rw') throw new ValidationError(where, `mode '${parts[2]}' must be ro or rw`);
        readOnly = parts[2] === 'ro';
      }
    }
    if (!target.startsWith('/')) throw new ValidationError(where, `target '${target}' must be an absolute path`);
    if (targets.has(target)) throw new ValidationError(where, `target '${target}' is mounted twice`);
    targets.add(target);
    if (source === undefined) throw new ValidationError(where, 'anonymous volumes are not supported; name a volume of the top-level volumes');
    const isPath = /^[./~]/.test(source);
    if (type === 'bind' || (type === undefined && isPath)) {
      const normalized = allowedHostPath(source, where, allowBindRoot);
      return { type: 'bind' as const, source: normalized, target, readOnly };
    }
    if (!volumes[source]) throw new ValidationError(where, `volume '${source}' is not declared in the top-level volumes`);
    return { type: 'volume' as const, source, target, readOnly };
  });
}

function readDependsOn(value: unknown, path: string): Record<string, DependencyCondition> {
  if (value === undefined || value === null) return {};
  const out: Record<string, DependencyCondition> = {};
  if (Array.isArray(value)) {
    value.forEach((item, i) => { out[readString(item, `${path}[${i}]`)] = 'service_started'; });
    return out;
  }
  for (const [dep, v] of Object.entries(object(value, path))) {
    const where = `${path}.${dep}`;
    const obj = v === null ? {} : object(v, where);
    checkKeys(obj, ['condition', 'required', 'restart'], where);
    const condition = obj.condition === undefined ? 'service_started' : readString(obj.condition, `${where}.condition`);
    if (condition !== 'service_started' && condition !== 'service_healthy') {
      throw new ValidationError(`${where}.condition`, `'${condition}' is not supported (service_started or service_healthy)`);
    }
    if (obj.required !== undefined && boolean(obj.required, `${where}.required`) === false) {
      throw new ValidationError(`${where}.required`, 'optional dependencies are not supported');
    }
    out[dep] = condition;
  }
  return out;
}

function readHealthcheck(value: unknown, path: string): ComposeHealthcheck | undefined {
  if (value === undefined || value === null) return undefined;
  const obj = object(value, path);
  checkKeys(obj, ['test', 'interval', 'timeout', 'start_period', 'start_interval', 'retries', 'disable'], path);
  if (obj.disable !== undefined && boolean(obj.disable, `${path}.disable`)) return undefined;
  if (obj.test === undefined) throw new ValidationError(`${path}.test`, 'is required');
  let test: string[];
  if (typeof obj.test === 'string') test = ['CMD-SHELL', readString(obj.test, `${path}.test`)];
  else {
    if (!Array.isArray(obj.test) || obj.test.length === 0) throw new ValidationError(`${path}.test`, 'must be a string or a non-empty list');
    test = obj.test.map((t, i) => readString(t, `${path}.test[${i}]`));
    if (!['CMD', 'CMD-SHELL', 'NONE'].includes(test[0])) throw new ValidationError(`${path}.test[0]`, 'must be CMD, CMD-SHELL or NONE');
    if (test[0] !== 'NONE' && test.length < 2) throw new ValidationError(`${path}.test`, 'names no command');
  }
  if (test[0] === 'NONE') return undefined;
  return {
    test,
    intervalMs: duration(obj.interval, `${path}.interval`),
    timeoutMs: duration(obj.timeout, `${path}.timeout`),
    startPeriodMs: duration(obj.start_period, `${path}.start_period`),
    startIntervalMs: duration(obj.start_interval, `${path}.start_interval`),
    retries: obj.retries === undefined ? undefined : integer(obj.retries, `${path}.retries`, 1, MAX_HEALTHCHECK_RETRIES),
  };
}

/** Compose durations: `1m30s`, `10s`, `500ms`, `1h`, `2us`; at most 2562047h. */
export function duration(value: unknown, path: string): number | undefined {
  if (value === undefined || value === null) return undefined;
  const text = typeof value === 'number' ? `${value}s` : readString(value, path);
  const units: Record<string, number> = { h: 3_600_000, m: 60_000, s: 1000, ms: 1, us: 0.001, 'µs': 0.001, ns: 0.000001 };
  const re = /(\d+(?:\.\d+)?)(h|ms|m|s|us|µs|ns)/gy;
  let total = 0;
  let consumed = 0;
  for (let m = re.exec(text); m; m = re.exec(text)) {
    total += Number(m[1]) * units[m[2]];
    consumed = re.lastIndex;
  }
  if (consumed === 0 || consumed !== text.length) throw new ValidationError(path, `'${text}' is not a duration (e.g. 10s, 1m30s, 500ms)`);
  if (!(total <= MAX_DURATION_MS)) throw new ValidationError(path, `'${text}' is longer than 2562047h`);
  return Math.round(total);
}

function readDeploy(value: unknown, path: string, options: ComposeOptions, warnings: string[]): { limits: ComposeService['limits']; replicas: number } {
  if (value === undefined || value === null) return { limits: {}, replicas: 1 };
  const obj = object(value, path);
  checkKeys(obj, ['resources', 'replicas'], path);
  const replicas = obj.replicas === undefined ? 1 : integer(obj.replicas, `${path}.replicas`, 1);
  if (obj.resources === undefined) return { limits: {}, replicas };
  const resources = object(obj.resources, `${path}.resources`);
  const allowed = options.tycho ? ['limits', 'reservations'] : ['limits'];
  checkKeys(resources, allowed, `${path}.resources`);
  if (resources.reservations !== undefined) warnings.push(`${path}.resources.reservations: ignored`);
  if (resources.limits === undefined) return { limits: {}, replicas };
  const limits = object(resources.limits, `${path}.resources.limits`);
  const lp = `${path}.resources.limits`;
  checkKeys(limits, options.tycho ? ['cpus', 'memory', 'gpus', 'ephemeralStorage'] : ['cpus', 'memory'], lp);
  if (limits.gpus !== undefined) warnings.push(`${lp}.gpus: ignored`);
  if (limits.ephemeralStorage !== undefined) warnings.push(`${lp}.ephemeralStorage: ignored`);
  return {
    replicas,
    limits: {
      cpus: limits.cpus === undefined ? undefined : cpus(limits.cpus, `${lp}.cpus`),
      memoryBytes: limits.memory === undefined ? undefined : byteSize(limits.memory, `${lp}.memory`),
    },
  };
}

function cpus(value: unknown, path: string): number {
  const n = typeof value === 'number' ? value : typeof value === 'string' && /^\d+(\.\d+)?$/.test(value.trim()) ? Number(value) : NaN;
  if (!Number.isFinite(n) || n <= 0) throw new ValidationError(path, 'must be a positive number of cores');
  return n;
}

/** Compose byte values: a number of bytes, or `128m`, `1.5g`, `512Mi`, `300M`, `64kb` (powers of 1024). */
export function byteSize(value: unknown, path: string): number {
  if (typeof value === 'number' && Number.isFinite(value) && value > 0) return Math.round(value);
  const m = typeof value === 'string' ? /^(\d+(?:\.\d+)?)\s*([kmgt]?)(i?b?)$/i.exec(value.trim()) : null;
  if (!m || Number(m[1]) <= 0) throw new ValidationError(path, `'${String(value)}' is not a memory size (e.g. 128M, 1g, 512Mi)`);
  const power = ['', 'k', 'm', 'g', 't'].indexOf(m[2].toLowerCase());
  return Math.round(Number(m[1]) * 1024 ** power);
}

function readRestart(value: unknown, path: string): ComposeRestart {
  const text = readString(value, path);
  const m = /^(no|always|unless-stopped|on-failure)(?::(\d+))?$/.exec(text);
  if (!m || (m[2] !== undefined && m[1] !== 'on-failure')) throw new ValidationError(path, `'${text}' must be no, always, on-failure[:N] or unless-stopped`);
  return { policy: m[1] as ComposeRestart['policy'], maxRetries: m[2] === undefined ? undefined : Number(m[2]) };
}

function readEcoware(value: unknown, path: string): ComposeService['ecoware'] {
  if (value === undefined || value === null) return {};
  const obj = object(value, path);
  checkKeys(obj, ['max_node', 'on_node_scale', 'on_dependency_scale', 'node_selector'], path);
  return {
    maxNode: obj.max_node === undefined ? undefined : integer(obj.max_node, `${path}.max_node`, 1),
    onNodeScale: obj.on_node_scale === undefined ? undefined : readString(obj.on_node_scale, `${path}.on_node_scale`),
    onDependencyScale: obj.on_dependency_scale === undefined ? undefined : readString(obj.on_dependency_scale, `${path}.on_dependency_scale`),
    nodeSelector: obj.node_selector === undefined ? undefined : stringMap(obj.node_selector, `${path}.node_selector`),
  };
}

/** Every dependency names a service, none depends on itself, no cycle, `service_healthy` only on a service with a healthcheck. */
function checkDependencies(services: ComposeService[]): void {
  const byName = new Map(services.map((s) => [s.name, s]));
  for (const s of services) {
    for (const [dep, condition] of Object.entries(s.dependsOn)) {
      const where = `services.${s.name}.depends_on.${dep}`;
      const target = byName.get(dep);
      if (!target) throw new ValidationError(where, `'${dep}' is not a service of this file`);
      if (dep === s.name) throw new ValidationError(where, `service '${s.name}' cannot depend on itself`);
      if (condition === 'service_healthy' && !target.healthcheck) {
        throw new ValidationError(where, `service '${dep}' has no healthcheck, so it can never be service_healthy`);
      }
    }
  }
  const state = new Map<string, 'visiting' | 'done'>();
  const visit = (s: ComposeService, path: string[]): void => {
    if (state.get(s.name) === 'done') return;
    if (state.get(s.name) === 'visiting') {
      const cycle = [...path.slice(path.indexOf(s.name)), s.name].join(' -> ');
      throw new ValidationError(`services.${s.name}.depends_on`, `dependency cycle: ${cycle}`);
    }
    state.set(s.name, 'visiting');
    for (const dep of Object.keys(s.dependsOn)) visit(byName.get(dep)!, [...path, s.name]);
    state.set(s.name, 'done');
  };
  for (const s of services) visit(s, []);
}

// Small readers that name the path of what they refuse.

function object(value: unknown, path: string): Record<string, unknown> {
  if (!isPlainObject(value)) throw new ValidationError(path, 'must be a map');
  return value;
}

function scalar(value: unknown, path: string): string {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  throw new ValidationError(path, 'must be a string, number or boolean');
}

function boolean(value: unknown, path: string): boolean {
  if (value === true || value === 'true') return true;
  if (value === false || value === 'false') return false;
  throw new ValidationError(path, 'must be true or false');
}

/** Interpolation yields strings, so `"${N}"` for a number is read as one. */
function integer(value: unknown, path: string, min: number, max = Infinity): number {
  const n = typeof value === 'number' ? value : typeof value === 'string' && /^\d+$/.test(value) ? Number(value) : NaN;
  if (!Number.isInteger(n) || n < min) throw new ValidationError(path, `must be a whole number of at least ${min}`);
  if (n > max) throw new ValidationError(path, `must be at most ${max}`);
  return n;
}

function stringMap(value: unknown, path: string): Record<string, string> {
  if (value === undefined || value === null) return {};
  return readStringMap(object(value, path), path);
}

function labels(value: unknown, path: string): Record<string, string> {
  if (value === undefined || value === null) return {};
  if (!Array.isArray(value)) return stringMap(value, path);
  const out: Record<string, string> = {};
  value.forEach((item, i) => {
    const entry = readString(item, `${path}[${i}]`);
    const eq = entry.indexOf('=');
    out[eq < 0 ? entry : entry.slice(0, eq)] = eq < 0 ? '' : entry.slice(eq + 1);
  });
  return out;
}

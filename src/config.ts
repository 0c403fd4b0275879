import * as os from 'os';
import * as path from 'path';
import { ValidationError } from './domain/errors';
import { DEFAULT_DOCKER_HOST } from './domain/topology';

/** Daemon settings, read once at start from flags and the environment and validated there. */
export interface DaemonConfig {
  port: number;
  host: string;
  stateDir: string;
  /** Docker endpoint of the implicit `local` node. */
  localDocker: string;
  /** Hard budget of one allocation; past it the best allocation found is used. */
  solverTimeLimitMs: number;
  /** Threads that solve one allocation side by side (`--solver-threads`, default the machine's cores, at least 1). */
  solverThreads: number;
  /** Topology loaded at start when none was persisted. */
  topologyFile?: string;
  /** Per-node range of the host ports the daemon chooses for systems (`--host-ports 20000-32000`). */
  hostPorts: { first: number; last: number };
  /** Host paths a compose file may bind only under this directory (`--allow-bind`); none = no host paths. */
  allowBind?: string;
  /** How long starting a system waits for its services to be ready (`--system-ready-timeout-s`, default 120). */
  systemReadyTimeoutMs: number;
  /** Finished executions older than this many days beyond the newest `executionRetentionCount` are pruned. */
  executionRetentionDays: number;
  executionRetentionCount: number;
  /** The last KiB of each stream of a job attempt kept with its record (`--job-log-kib`, default 1024), unless its template says otherwise. */
  jobLogKib: number;
  /** `<role> <token>` lines; without it the API is open and may listen on loopback only. */
  tokensFile?: string;
  /** Listen beyond loopback without a tokens file. */
  insecureNoAuth: boolean;
  /** Without a tokens file, `Host` names answered besides loopback ones and the listen address (`--allowed-host`, `*` any). */
  allowedHosts: string[];
  /** Serve HTTPS with this certificate and key (PEM files). */
  tlsCert?: string;
  tlsKey?: string;
  /** SIGTERM: how long the running execution may take to finish before it is stopped. */
  shutdownTimeoutS: number;
  /** `postgres://…`: the state in PostgreSQL instead of the state dir's SQLite file; several daemons may share it, one leads. */
  databaseUrl?: string;
  /** How long the leader's lease lasts without a renewal (`--lease-s`, default 15; PostgreSQL only). */
  leaseS: number;
  /** This daemon's URL as the other daemons should redirect changes to it (`--advertise-url`). */
  advertiseUrl?: string;
}

/** What a setting is when neither a flag nor the environment gives it (readConfig and startDaemon alike). */
export const DAEMON_DEFAULTS = {
  host: '127.0.0.1',
  solverTimeLimitMs: 10_000,
  hostPorts: { first: 20000, last: 32000 },
  systemReadyTimeoutMs: 120_000,
  executionRetentionDays: 30,
  executionRetentionCount: 10_000,
  jobLogKib: 1024,
  shutdownTimeoutS: 60,
  leaseS: 15,
} as const;

export function readConfig(flags: Record<string, string | undefined>, env: NodeJS.ProcessEnv = process.env): DaemonConfig {
  const port = Number(flags.port ?? env.PORT ?? 8000);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new ValidationError('port', `'${flags.port ?? env.PORT}' is not a port number`);
  const limit = Number(flags['solver-time-limit-ms'] ?? env.ECOWARE_SOLVER_TIME_LIMIT_MS ?? DAEMON_DEFAULTS.solverTimeLimitMs);
  if (!Number.isFinite(limit) || limit <= 0) throw new ValidationError('solver-time-limit-ms', 'must be a positive number of milliseconds');
  return {
    port,
    host: flags.host ?? env.HOST ?? DAEMON_DEFAULTS.host,
    stateDir: path.resolve(flags['state-dir'] ?? env.ECOWARE_STATE_DIR ?? '.state'),
    localDocker: localDockerOf(env),
    solverTimeLimitMs: limit,
    solverThreads: readSolverThreads(flags['solver-threads'] ?? env.ECOWARE_SOLVER_THREADS),
    topologyFile: flags.topology ?? env.ECOWARE_TOPOLOGY,
    hostPorts: readOptional(flags['host-ports'] ?? env.ECOWARE_HOST_PORTS, readPortRange, { ...DAEMON_DEFAULTS.hostPorts }),
    allowBind: flags['allow-bind'] ?? env.ECOWARE_ALLOW_BIND,
    systemReadyTimeoutMs: readOptional(flags['system-ready-timeout-s'] ?? env.ECOWARE_SYSTEM_READY_TIMEOUT_S, (v) => readSeconds(v, 'system-ready-timeout-s') * 1000, DAEMON_DEFAULTS.systemReadyTimeoutMs),
    executionRetentionDays: readNumber(flags, env, 'execution-retention-days', 'ECOWARE_EXECUTION_RETENTION_DAYS', DAEMON_DEFAULTS.executionRetentionDays, 0, 36_500),
    executionRetentionCount: readNumber(flags, env, 'execution-retention-count', 'ECOWARE_EXECUTION_RETENTION_COUNT', DAEMON_DEFAULTS.executionRetentionCount, 0, 1e9),
    jobLogKib: readNumber(flags, env, 'job-log-kib', 'ECOWARE_JOB_LOG_KIB', DAEMON_DEFAULTS.jobLogKib, 1, 65_536),
    tokensFile: flags['tokens-file'] ?? env.ECOWARE_TOKENS_FILE,
    insecureNoAuth: flags['insecure-no-auth'] === 'true' || flags['insecure-no-auth'] === '' || env.ECOWARE_INSECURE_NO_AUTH === '1',
    allowedHosts: readHostNames(flags['allowed-host'] ?? env.ECOWARE_ALLOWED_HOSTS),
    tlsCert: flags['tls-cert'] ?? env.ECOWARE_TLS_CERT,
    tlsKey: flags['tls-key'] ?? env.ECOWARE_TLS_KEY,
    shutdownTimeoutS: readNumber(flags, env, 'shutdown-timeout-s', 'ECOWARE_SHUTDOWN_TIMEOUT_S', DAEMON_DEFAULTS.shutdownTimeoutS, 0, 86_400),
    databaseUrl: readDatabaseUrl(flags['database-url'] ?? env.ECOWARE_DATABASE_URL),
    leaseS: readNumber(flags, env, 'lease-s', 'ECOWARE_LEASE_S', DAEMON_DEFAULTS.leaseS, 1, 3_600),
    advertiseUrl: readAdvertiseUrl(flags['advertise-url'] ?? env.ECOWARE_ADVERTISE_URL),
  };
}

/** `postgres://` or `postgresql://` URL; an empty value means none (the SQLite file). The error never repeats the URL: it may hold a password. */
export function readDatabaseUrl(value: string | undefined): string | undefined {
  if (value === undefined || value.trim() === '') return undefined;
  let url: URL;
  try {
    url = new URL(value.trim());
  } catch {
    throw new ValidationError('database-url', 'is not a URL (postgres://user:password@host:port/database)');
  }
  if (url.protocol !== 'postgres:' && url.protocol !== 'postgresql:') throw new ValidationError('database-url', `scheme '${url.protocol}' is not postgres: or postgresql:`);
  return value.trim();
}

/** An http(s) URL without a path, where the other daemons send the changes they are given. */
export function readAdvertiseUrl(value: string | undefined): string | undefined {
  if (value === undefined || value.trim() === '') return undefined;
  let url: URL;
  try {
    url = new URL(value.trim());
  } catch {
    throw new ValidationError('advertise-url', `'${value}' is not a URL (http://host:port)`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new ValidationError('advertise-url', `'${value}' is not an http or https URL`);
  return url.origin;
}

const HOST_NAME = /^(\*|[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*|\[?[0-9a-f:.]+\]?)$/i;

/** Comma-separated host names or addresses (`--allowed-host` may also be given several times). */
export function readHostNames(value: string | undefined): string[] {
  if (value === undefined) return [];
  const names = value.split(',').map((n) => n.trim()).filter((n) => n !== '');
  for (const name of names) {
    if (name.length > 253 || !HOST_NAME.test(name)) throw new ValidationError('allowed-host', `'${name}' is not a host name, an address or *`);
  }
  return names;
}

/** The machine's cores when not given (at least 1); a whole number from 1 to 256 when given. */
export function readSolverThreads(raw: string | undefined): number {
  if (raw === undefined) return Math.max(1, os.availableParallelism());
  const n = Number(raw);
  if (raw.trim() === '' || !Number.isInteger(n) || n < 1 || n > 256) throw new ValidationError('solver-threads', `'${raw}' must be a whole number from 1 to 256`);
  return n;
}

/** `FIRST-LAST`, both within 1-65535. */
export function readPortRange(value: string): { first: number; last: number } {
  const m = /^(\d{1,5})-(\d{1,5})$/.exec(value.trim());
  const first = Number(m?.[1]);
  const last = Number(m?.[2]);
  if (!m || first < 1 || last > 65535 || first > last) throw new ValidationError('host-ports', `'${value}' is not a port range FIRST-LAST within 1-65535`);
  return { first, last };
}

function readOptional<T>(raw: string | undefined, read: (value: string) => T, fallback: T): T {
  return raw === undefined ? fallback : read(raw);
}

function readSeconds(value: string, field: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw new ValidationError(field, 'must be a positive number of seconds');
  return n;
}

function readNumber(flags: Record<string, string | undefined>, env: NodeJS.ProcessEnv, flag: string, variable: string, fallback: number, min: number, max: number): number {
  const raw = flags[flag] ?? env[variable];
  if (raw === undefined) return fallback;
  const value = Number(raw);
  if (raw.trim() === '' || !Number.isFinite(value) || value < min || value > max) throw new ValidationError(flag, `'${raw}' must be a number from ${min} to ${max}`);
  return value;
}

/** The implicit `local` node's engine: DOCKER_HOST (a bare socket path is accepted), else the default socket. */
export function localDockerOf(env: NodeJS.ProcessEnv = process.env): string {
  return normaliseDockerHost(env.DOCKER_HOST) ?? DEFAULT_DOCKER_HOST;
}

/** DOCKER_HOST may be a bare socket path. */
function normaliseDockerHost(value: string | undefined): string | undefined {
  if (!value) return undefined;
  return value.startsWith('/') ? `unix://${value}` : value;
}

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
  /** Topology loaded at start when none was persisted. */
  topologyFile?: string;
  /** Per-node range of the host ports the daemon chooses for systems (`--host-ports 20000-32000`). */
  hostPorts: { first: number; last: number };
  /** Host paths a compose file may bind only under this directory (`--allow-bind`); none = no host paths. */
  allowBind?: string;
  /** How long starting a system waits for its services to be ready (`--system-ready-timeout-s`, default 120). */
  systemReadyTimeoutMs: number;
}

export function readConfig(flags: Record<string, string | undefined>, env: NodeJS.ProcessEnv = process.env): DaemonConfig {
  const port = Number(flags.port ?? env.PORT ?? 8000);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new ValidationError('port', `'${flags.port ?? env.PORT}' is not a port number`);
  const limit = Number(flags['solver-time-limit-ms'] ?? env.ECOWARE_SOLVER_TIME_LIMIT_MS ?? 10_000);
  if (!Number.isFinite(limit) || limit <= 0) throw new ValidationError('solver-time-limit-ms', 'must be a positive number of milliseconds');
  return {
    port,
    host: flags.host ?? env.HOST ?? '127.0.0.1',
    stateDir: path.resolve(flags['state-dir'] ?? env.ECOWARE_STATE_DIR ?? '.state'),
    localDocker: localDockerOf(env),
    solverTimeLimitMs: limit,
    topologyFile: flags.topology ?? env.ECOWARE_TOPOLOGY,
    hostPorts: readPortRange(flags['host-ports'] ?? env.ECOWARE_HOST_PORTS ?? '20000-32000'),
    allowBind: flags['allow-bind'] ?? env.ECOWARE_ALLOW_BIND,
    systemReadyTimeoutMs: readSeconds(flags['system-ready-timeout-s'] ?? env.ECOWARE_SYSTEM_READY_TIMEOUT_S ?? '120', 'system-ready-timeout-s') * 1000,
  };
}

/** `FIRST-LAST`, both within 1-65535. */
export function readPortRange(value: string): { first: number; last: number } {
  const m = /^(\d{1,5})-(\d{1,5})$/.exec(value.trim());
  const first = Number(m?.[1]);
  const last = Number(m?.[2]);
  if (!m || first < 1 || last > 65535 || first > last) throw new ValidationError('host-ports', `'${value}' is not a port range FIRST-LAST within 1-65535`);
  return { first, last };
}

function readSeconds(value: string, field: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw new ValidationError(field, 'must be a positive number of seconds');
  return n;
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

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
    localDocker: normaliseDockerHost(env.DOCKER_HOST) ?? DEFAULT_DOCKER_HOST,
    solverTimeLimitMs: limit,
    topologyFile: flags.topology ?? env.ECOWARE_TOPOLOGY,
  };
}

/** DOCKER_HOST may be a bare socket path. */
function normaliseDockerHost(value: string | undefined): string | undefined {
  if (!value) return undefined;
  return value.startsWith('/') ? `unix://${value}` : value;
}

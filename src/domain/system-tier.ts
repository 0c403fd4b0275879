import { ValidationError } from './errors';
import {
  readBoolean, readObject, readOptionalInteger, readOptionalString, readString, readStringArray, readStringMap,
} from './json-reader';

/**
 * What a tier made from a compose service carries beyond an ordinary tier: the `system` block of the
 * tier in the topology document. The topology stays self-describing: a restarted daemon re-creates
 * a system's containers from the persisted topology alone.
 */
export interface SystemTier {
  /** 32 hex digits. */
  sid: string;
  namespace: string;
  /** The compose service name (the tier key too). */
  service: string;
  /** The user-defined network the system's containers join on each node (named like the app). */
  network: string;
  /** Replaces the image's entrypoint. */
  entrypoint?: string[];
  healthcheck?: SystemHealthcheck;
  /** Container ports published on host ports the daemon chooses, e.g. `80/tcp`. */
  publish: { containerPort: number; protocol: 'tcp' | 'udp' }[];
  mounts: SystemMount[];
  labels: Record<string, string>;
  restart?: { policy: 'no' | 'always' | 'on-failure' | 'unless-stopped'; maxRetries?: number };
  /** Services that must be healthy before a container of this one is created. */
  waitHealthy: string[];
}

/** The compose service's healthcheck as the tier carries it (a compose file's healthcheck has this shape too). */
export interface SystemHealthcheck {
  /** Docker's form: `["CMD", …]`, `["CMD-SHELL", "…"]` or `["NONE"]`. */
  test: string[];
  intervalMs?: number;
  timeoutMs?: number;
  startPeriodMs?: number;
  startIntervalMs?: number;
  retries?: number;
}

export type SystemMount =
  | { type: 'volume'; /** the name on the node */ volume: string; target: string; readOnly: boolean; driver?: string; driverOpts: Record<string, string>; external: boolean }
  | { type: 'bind'; source: string; target: string; readOnly: boolean };

const RESTART = ['no', 'always', 'on-failure', 'unless-stopped'];

/** Reads the `system` block of a tier (written by the systems use case, or by hand). */
export function parseSystemTier(value: unknown, field: string): SystemTier | undefined {
  if (value === undefined || value === null) return undefined;
  const obj = readObject(value, field);
  const f = (k: string) => `${field}.${k}`;
  const sid = readString(obj.sid, f('sid'));
  if (!/^[0-9a-f]{32}$/.test(sid)) throw new ValidationError(f('sid'), 'must be 32 hex digits');
  const publish = (obj.publish === undefined ? [] : readStringArray(obj.publish, f('publish'))).map((p, i) => {
    const m = /^(\d{1,5})\/(tcp|udp)$/.exec(p);
    if (!m || Number(m[1]) < 1 || Number(m[1]) > 65535) throw new ValidationError(`${f('publish')}[${i}]`, `'${p}' is not PORT/tcp or PORT/udp`);
    return { containerPort: Number(m[1]), protocol: m[2] as 'tcp' | 'udp' };
  });
  const mounts = obj.mounts === undefined ? [] : readArray(obj.mounts, f('mounts')).map((m, i) => parseMount(m, `${f('mounts')}[${i}]`));
  let restart: SystemTier['restart'];
  if (obj.restart !== undefined) {
    const r = readObject(obj.restart, f('restart'));
    const policy = readString(r.policy, `${f('restart')}.policy`);
    if (!RESTART.includes(policy)) throw new ValidationError(`${f('restart')}.policy`, `must be one of ${RESTART.join(', ')}`);
    restart = { policy: policy as NonNullable<SystemTier['restart']>['policy'], maxRetries: readOptionalInteger(r.max_retries, `${f('restart')}.max_retries`, { min: 0 }) };
  }
  return {
    sid,
    namespace: readString(obj.namespace, f('namespace')),
    service: readString(obj.service, f('service')),
    network: readString(obj.network, f('network')),
    entrypoint: obj.entrypoint === undefined ? undefined : readStringArray(obj.entrypoint, f('entrypoint')),
    healthcheck: obj.healthcheck === undefined ? undefined : parseHealthcheck(obj.healthcheck, f('healthcheck')),
    publish,
    mounts,
    labels: obj.labels === undefined ? {} : readStringMap(obj.labels, f('labels')),
    restart,
    waitHealthy: obj.wait_healthy === undefined ? [] : readStringArray(obj.wait_healthy, f('wait_healthy')),
  };
}

/** The engine holds healthcheck durations as int64 nanoseconds and refuses longer ones, as an engine failure. */
export const MAX_DURATION_MS = 2_562_047 * 3_600_000;
/** The engine holds healthcheck retries as an int. */
export const MAX_HEALTHCHECK_RETRIES = 2_147_483_647;

function parseHealthcheck(value: unknown, field: string): SystemHealthcheck {
  const obj = readObject(value, field);
  const ms = (k: string) => readOptionalInteger(obj[k], `${field}.${k}`, { min: 0, max: MAX_DURATION_MS });
  return {
    test: readStringArray(obj.test, `${field}.test`),
    intervalMs: ms('interval_ms'),
    timeoutMs: ms('timeout_ms'),
    startPeriodMs: ms('start_period_ms'),
    startIntervalMs: ms('start_interval_ms'),
    retries: readOptionalInteger(obj.retries, `${field}.retries`, { min: 1, max: MAX_HEALTHCHECK_RETRIES }),
  };
}

function parseMount(value: unknown, field: string): SystemMount {
  const obj = readObject(value, field);
  const target = readString(obj.target, `${field}.target`);
  const readOnly = obj.read_only === undefined ? false : readBoolean(obj.read_only, `${field}.read_only`);
  if (obj.type === 'bind') return { type: 'bind', source: readString(obj.source, `${field}.source`), target, readOnly };
  if (obj.type !== 'volume') throw new ValidationError(`${field}.type`, "must be 'volume' or 'bind'");
  return {
    type: 'volume',
    volume: readString(obj.volume, `${field}.volume`),
    target,
    readOnly,
    driver: readOptionalString(obj.driver, `${field}.driver`),
    driverOpts: obj.driver_opts === undefined ? {} : readStringMap(obj.driver_opts, `${field}.driver_opts`),
    external: obj.external === undefined ? false : readBoolean(obj.external, `${field}.external`),
  };
}

function readArray(value: unknown, field: string): unknown[] {
  if (!Array.isArray(value)) throw new ValidationError(field, 'must be an array');
  return value;
}


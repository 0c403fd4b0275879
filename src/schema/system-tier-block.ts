import { z } from 'zod';
import { ValidationError } from '../domain/errors';
import { MAX_DURATION_MS, MAX_HEALTHCHECK_RETRIES, SystemHealthcheck, SystemMount, SystemTier } from '../domain/system-tier';
import { absentOr, nonEmptyString, readShape, stringMap, wholeNumber } from './shape';

const RESTART = ['no', 'always', 'on-failure', 'unless-stopped'] as const;

const object = <T extends z.ZodRawShape>(shape: T) => z.object(shape, { invalid_type_error: 'must be an object', required_error: 'must be an object' });
const strings = (problem = 'must be an array of strings') => z.array(nonEmptyString(), { invalid_type_error: problem, required_error: problem });
const flag = z.boolean({ invalid_type_error: 'must be true or false' }).optional();
const milliseconds = absentOr(wholeNumber({ min: 0, max: MAX_DURATION_MS }));

const HEALTHCHECK = object({
  test: strings(),
  interval_ms: milliseconds,
  timeout_ms: milliseconds,
  start_period_ms: milliseconds,
  start_interval_ms: milliseconds,
  retries: absentOr(wholeNumber({ min: 1, max: MAX_HEALTHCHECK_RETRIES })),
});

/** What every mount has; the rest depends on its `type`, read after. */
const MOUNT = object({ target: nonEmptyString(), read_only: flag, type: z.unknown() });
const BIND_MOUNT = object({ source: nonEmptyString() });
const VOLUME_MOUNT = object({
  volume: nonEmptyString(),
  driver: absentOr(nonEmptyString()),
  driver_opts: stringMap().optional(),
  external: flag,
});

const SYSTEM_BLOCK = object({
  sid: nonEmptyString().refine((sid) => /^[0-9a-f]{32}$/.test(sid), 'must be 32 hex digits'),
  publish: strings().optional(),
  mounts: z.array(z.unknown(), { invalid_type_error: 'must be an array' }).optional(),
  restart: object({
    policy: nonEmptyString().refine((p) => (RESTART as readonly string[]).includes(p), `must be one of ${RESTART.join(', ')}`),
    max_retries: absentOr(wholeNumber({ min: 0 })),
  }).optional(),
  namespace: nonEmptyString(),
  service: nonEmptyString(),
  network: nonEmptyString(),
  entrypoint: strings().optional(),
  healthcheck: HEALTHCHECK.optional(),
  labels: stringMap().optional(),
  wait_healthy: strings().optional(),
});

/** Reads the `system` block of a tier (written by the systems use case, or by hand). */
export function parseSystemTier(value: unknown, field: string): SystemTier | undefined {
  if (value === undefined || value === null) return undefined;
  const block = readShape(SYSTEM_BLOCK, value, field);
  const publish = (block.publish ?? []).map((p, i) => {
    const m = /^(\d{1,5})\/(tcp|udp)$/.exec(p);
    if (!m || Number(m[1]) < 1 || Number(m[1]) > 65535) throw new ValidationError(`${field}.publish[${i}]`, `'${p}' is not PORT/tcp or PORT/udp`);
    return { containerPort: Number(m[1]), protocol: m[2] as 'tcp' | 'udp' };
  });
  return {
    sid: block.sid,
    namespace: block.namespace,
    service: block.service,
    network: block.network,
    entrypoint: block.entrypoint,
    healthcheck: block.healthcheck === undefined ? undefined : healthcheckOf(block.healthcheck),
    publish,
    mounts: (block.mounts ?? []).map((m, i) => parseMount(m, `${field}.mounts[${i}]`)),
    labels: block.labels ?? {},
    restart: block.restart === undefined ? undefined : {
      policy: block.restart.policy as (typeof RESTART)[number],
      maxRetries: block.restart.max_retries,
    },
    waitHealthy: block.wait_healthy ?? [],
  };
}

function healthcheckOf(h: z.output<typeof HEALTHCHECK>): SystemHealthcheck {
  return {
    test: h.test,
    intervalMs: h.interval_ms,
    timeoutMs: h.timeout_ms,
    startPeriodMs: h.start_period_ms,
    startIntervalMs: h.start_interval_ms,
    retries: h.retries,
  };
}

function parseMount(value: unknown, field: string): SystemMount {
  const mount = readShape(MOUNT, value, field);
  const readOnly = mount.read_only ?? false;
  if (mount.type === 'bind') return { type: 'bind', source: readShape(BIND_MOUNT, value, field).source, target: mount.target, readOnly };
  if (mount.type !== 'volume') throw new ValidationError(`${field}.type`, "must be 'volume' or 'bind'");
  const volume = readShape(VOLUME_MOUNT, value, field);
  return {
    type: 'volume',
    volume: volume.volume,
    target: mount.target,
    readOnly,
    driver: volume.driver,
    driverOpts: volume.driver_opts ?? {},
    external: volume.external ?? false,
  };
}

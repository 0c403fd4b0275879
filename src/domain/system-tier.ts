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

/** The engine holds healthcheck durations as int64 nanoseconds and refuses longer ones, as an engine failure. */
export const MAX_DURATION_MS = 2_562_047 * 3_600_000;
/** The engine holds healthcheck retries as an int. */
export const MAX_HEALTHCHECK_RETRIES = 2_147_483_647;

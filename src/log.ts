import pino from 'pino';

/**
 * The daemon's log: JSON lines on standard output (`level`, `time`, `msg`, and `request_id` /
 * `execution_id` where they apply). `ECOWARE_LOG_LEVEL` (or `--log-level`) sets the threshold;
 * tests default to `silent` unless it is set. Credentials are never passed to it; the
 * `authorization` header is redacted in case a caller logs a request.
 */
export const log = pino({
  level: process.env.ECOWARE_LOG_LEVEL ?? (process.env.JEST_WORKER_ID ? 'silent' : 'info'),
  base: undefined,
  timestamp: pino.stdTimeFunctions.isoTime,
  formatters: { level: (label) => ({ level: label }) },
  redact: { paths: ['req.headers.authorization', 'headers.authorization', 'authorization', 'token'], censor: '[redacted]' },
});

export function setLogLevel(level: string): void {
  log.level = level;
}

export type Logger = pino.Logger;

import pino from 'pino';
import { redactUrlSecrets } from './domain/redact';

/** Strings of a log line's fields (one level deep) with URL passwords redacted. */
function redactFields(fields: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(fields)) out[k] = typeof v === 'string' && v.includes('@') ? redactUrlSecrets(v) : v;
  return out;
}

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
  formatters: { level: (label) => ({ level: label }), log: redactFields },
  hooks: {
    logMethod(args, method) {
      method.apply(this, args.map((a) => (typeof a === 'string' && a.includes('@') ? redactUrlSecrets(a) : a)) as Parameters<typeof method>);
    },
  },
  redact: { paths: ['req.headers.authorization', 'headers.authorization', 'authorization', 'token'], censor: '[redacted]' },
});

export function setLogLevel(level: string): void {
  log.level = level;
}

export type Logger = pino.Logger;

import { ValidationError } from './errors';

/**
 * Small readers for untrusted JSON. Each takes the value and the JSON path it came from,
 * and throws a ValidationError naming that path when the value is not of the expected shape.
 */
export type Json = unknown;

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function readObject(value: Json, field: string): Record<string, unknown> {
  if (!isPlainObject(value)) throw new ValidationError(field, 'must be an object');
  return value;
}

export function readString(value: Json, field: string): string {
  if (typeof value !== 'string' || value.length === 0) throw new ValidationError(field, 'must be a non-empty string');
  return value;
}

export function readOptionalString(value: Json, field: string): string | undefined {
  return value === undefined || value === null ? undefined : readString(value, field);
}

export function readBoolean(value: Json, field: string): boolean {
  if (typeof value !== 'boolean') throw new ValidationError(field, 'must be true or false');
  return value;
}

/** A whole number; integral floats such as `6.0` are accepted (JSON cannot tell them apart anyway). */
export function readInteger(value: Json, field: string, opts: { min?: number; max?: number } = {}): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || !Number.isInteger(value)) {
    throw new ValidationError(field, 'must be a whole number');
  }
  if (opts.min !== undefined && value < opts.min) throw new ValidationError(field, `must be at least ${opts.min}`);
  if (opts.max !== undefined && value > opts.max) throw new ValidationError(field, `must be at most ${opts.max}`);
  return value;
}

export function readOptionalInteger(value: Json, field: string, opts: { min?: number; max?: number } = {}): number | undefined {
  return value === undefined || value === null ? undefined : readInteger(value, field, opts);
}

export function readStringArray(value: Json, field: string): string[] {
  if (!Array.isArray(value)) throw new ValidationError(field, 'must be an array of strings');
  return value.map((item, i) => readString(item, `${field}[${i}]`));
}

export function readStringMap(value: Json, field: string): Record<string, string> {
  const obj = readObject(value, field);
  const out: Record<string, string> = {};
  for (const [key, v] of Object.entries(obj)) {
    if (typeof v === 'string') out[key] = v;
    else if (typeof v === 'number' || typeof v === 'boolean') out[key] = String(v);
    else throw new ValidationError(`${field}.${key}`, 'must be a string, number or boolean');
  }
  return out;
}

/** Longest duration a topology field may give in seconds (a day); Node's timers cap near 24.8 days. */
export const MAX_SECONDS = 86_400;

/**
 * A duration given in seconds, as milliseconds; absent → undefined. Positive (or, with `allowZero`,
 * non-negative, 0 meaning "off"), at most MAX_SECONDS.
 */
export function readOptionalSecondsAsMs(value: Json, field: string, opts: { allowZero?: boolean } = {}): number | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0 || (!opts.allowZero && value === 0) || value > MAX_SECONDS) {
    throw new ValidationError(field, `must be a ${opts.allowZero ? 'non-negative' : 'positive'} number of seconds, at most ${MAX_SECONDS}`);
  }
  return Math.round(value * 1000);
}

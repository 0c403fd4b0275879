import { z, ZodIssue, ZodTypeAny } from 'zod';
import { ValidationError } from '../domain/errors';

/**
 * The one reader of untrusted JSON shapes: a zod schema says the shape, and `readShape` turns the
 * first thing wrong into a ValidationError naming its path as the API always has (`apps[0].tiers.db`,
 * `services.web.ports[0]`). Which mistake is named first, when there are several: an unknown field,
 * then a field whose absence reads `is required`, then the rest in the order of the schema. Units,
 * interpolation and rules across fields stay hand-written after the shape is read.
 */
export function readShape<S extends ZodTypeAny>(schema: S, value: unknown, field: string): z.output<S> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const issue = firstIssue(result.error.issues);
  if (issue.code === 'unrecognized_keys') throw new ValidationError(fieldPath(field, [...issue.path, issue.keys[0]]), issue.message);
  throw new ValidationError(fieldPath(field, issue.path), issue.message);
}

/** The message of a field that must be given: such a mistake is named before others. */
export const REQUIRED = 'is required';

function firstIssue(issues: ZodIssue[]): ZodIssue {
  const rank = (issue: ZodIssue): number => {
    if (issue.code === 'unrecognized_keys') return 0;
    if (issue.code === 'invalid_type' && issue.received === 'undefined' && issue.message === REQUIRED) return 1;
    return 2;
  };
  return issues.reduce((best, issue) => (rank(issue) < rank(best) ? issue : best));
}

/** `base` then each step: `.key` for a field, `[i]` for an array item. */
export function fieldPath(base: string, path: (string | number)[]): string {
  return path.reduce<string>((at, step) => (typeof step === 'number' ? `${at}[${step}]` : at ? `${at}.${step}` : step), base);
}

/** An object with exactly these fields; another one is refused, naming the ones expected. */
export function closedObject<T extends z.ZodRawShape>(shape: T, expected = Object.keys(shape).join(', ')) {
  return z.object(shape, { invalid_type_error: 'must be an object', required_error: 'must be an object' }).strict(`unknown field (expected ${expected})`);
}

export function nonEmptyString(problem = 'must be a non-empty string') {
  return z.string({ invalid_type_error: problem, required_error: problem }).min(1, problem);
}

/** A whole number; integral floats such as `6.0` are accepted (JSON cannot tell them apart anyway). */
export function wholeNumber(opts: { min?: number; max?: number; required?: string } = {}) {
  let schema = z.number({ invalid_type_error: 'must be a whole number', required_error: opts.required ?? 'must be a whole number' })
    .finite('must be a whole number').int('must be a whole number');
  if (opts.min !== undefined) schema = schema.min(opts.min, `must be at least ${opts.min}`);
  if (opts.max !== undefined) schema = schema.max(opts.max, `must be at most ${opts.max}`);
  return schema;
}

/** A map of names to strings; numbers and booleans are taken as their text. */
export function stringMap() {
  const scalar = z.union([z.string(), z.number(), z.boolean()], { errorMap: () => ({ message: 'must be a string, number or boolean' }) })
    .transform((v) => String(v));
  return z.record(z.string(), scalar, { invalid_type_error: 'must be an object', required_error: 'must be an object' });
}

/** Absent or null reads as undefined. */
export function absentOr<S extends ZodTypeAny>(schema: S) {
  return schema.nullish().transform((v) => (v === null ? undefined : v));
}

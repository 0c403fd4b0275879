import { ValidationError } from '../domain/errors';

/**
 * A true/false query parameter: `true`, `1` or present without a value are true, `false` and `0`
 * false, absent is undefined. Anything else, a repeated parameter included, is null.
 */
export function parseFlag(value: unknown): boolean | null | undefined {
  if (value === undefined) return undefined;
  if (value === 'true' || value === '1' || value === '') return true;
  if (value === 'false' || value === '0') return false;
  return null;
}

/** parseFlag, refusing a value that is neither true nor false (400 naming the parameter). */
export function readFlag(value: unknown, field: string): boolean | undefined {
  const flag = parseFlag(value);
  if (flag === null) throw new ValidationError(field, `must be true or false, got '${String(value).slice(0, 40)}'`);
  return flag;
}

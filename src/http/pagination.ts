import { ValidationError } from '../domain/errors';

export interface Page {
  limit: number;
  offset: number;
}

/** `?limit=&offset=` with the defaults of the process registry's listings. */
export function readPage(query: Record<string, unknown>, defaultLimit = 20, maxLimit = 1000): Page {
  const read = (name: string, fallback: number, min: number, max: number): number => {
    const raw = query[name];
    if (raw === undefined) return fallback;
    const value = typeof raw === 'string' && /^\d+$/.test(raw) ? Number(raw) : NaN;
    if (!Number.isInteger(value) || value < min || value > max) throw new ValidationError(name, `must be a whole number from ${min} to ${max}`);
    return value;
  };
  return { limit: read('limit', defaultLimit, 1, maxLimit), offset: read('offset', 0, 0, Number.MAX_SAFE_INTEGER) };
}

/** `{"meta": {limit, next, offset, previous, total_count}, "objects": [...]}` */
export function pageEnvelope<T>(base: string, page: Page, total: number, objects: T[], query = '') {
  const link = (offset: number) => `${base}?limit=${page.limit}&offset=${offset}${query}`;
  return {
    meta: {
      limit: page.limit,
      offset: page.offset,
      total_count: total,
      next: page.offset + page.limit < total ? link(page.offset + page.limit) : null,
      previous: page.offset > 0 ? link(Math.max(0, page.offset - page.limit)) : null,
    },
    objects,
  };
}

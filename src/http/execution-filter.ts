import { ValidationError } from '../domain/errors';
import { ExecutionStatus } from '../domain/execution';
import { ExecutionFilter } from '../ports/execution-store';

const STATUSES: ExecutionStatus[] = ['queued', 'running', 'succeeded', 'failed', 'cancelled', 'superseded'];
const KINDS = ['plan', 'reconcile', 'heal', 'drain', 'rollback', 'system', 'scale'];
const EXECUTION_ID = /^[A-Za-z0-9-]{1,128}$/;

/**
 * `?status=failed,cancelled&kind=plan&since=2026-11-01T00:00:00Z&before=<id>`: each a comma list
 * (or the parameter repeated); `since` an ISO 8601 time or a number of seconds ago (`since=3600`).
 * `query` repeats the filter for the page links.
 */
export function readExecutionFilter(query: Record<string, unknown>): ExecutionFilter & { query: string } {
  const list = (name: string, allowed: string[]): string[] | undefined => {
    const raw = query[name];
    if (raw === undefined) return undefined;
    const values = (Array.isArray(raw) ? raw : [raw]).flatMap((v) => (typeof v === 'string' ? v.split(',') : [''])).map((v) => v.trim());
    for (const v of values) {
      if (!allowed.includes(v)) throw new ValidationError(name, `'${v.slice(0, 40)}' is not one of ${allowed.join(', ')}`);
    }
    return values;
  };
  const filter: ExecutionFilter & { query: string } = { query: '' };
  const status = list('status', STATUSES);
  if (status) filter.status = status as ExecutionStatus[];
  const kind = list('kind', KINDS);
  if (kind) filter.kind = kind;
  if (query.since !== undefined) {
    const raw = query.since;
    if (typeof raw !== 'string' || raw.length > 40) throw new ValidationError('since', 'must be an ISO 8601 time or a number of seconds');
    const time = /^\d{1,10}$/.test(raw) ? Date.now() - Number(raw) * 1000 : Date.parse(raw);
    if (!Number.isFinite(time)) throw new ValidationError('since', `'${raw}' is not an ISO 8601 time or a number of seconds`);
    filter.since = new Date(time).toISOString();
  }
  if (query.before !== undefined) {
    if (typeof query.before !== 'string' || !EXECUTION_ID.test(query.before)) throw new ValidationError('before', 'must be an execution id');
    filter.before = query.before;
  }
  const parts: string[] = [];
  if (filter.status) parts.push(`status=${filter.status.join(',')}`);
  if (filter.kind) parts.push(`kind=${filter.kind.join(',')}`);
  if (filter.since) parts.push(`since=${encodeURIComponent(filter.since)}`);
  if (filter.before) parts.push(`before=${filter.before}`);
  filter.query = parts.map((p) => `&${p}`).join('');
  return filter;
}

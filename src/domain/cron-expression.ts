/**
 * Standard cron syntax, checked without a scheduler so that a topology is refused before it is
 * accepted rather than when its schedule starts: five fields (minute hour day-of-month month
 * day-of-week) or six (seconds first); each a comma list of `*`, `*\/step`, `n`, `a-b` or `a-b/step`;
 * month and weekday names (`jan`, `mon` …); or one of `@yearly`, `@annually`, `@monthly`, `@weekly`,
 * `@daily`, `@midnight`, `@hourly`. The scheduler (node-cron) accepts all of this and some
 * extensions (`L`, `W`, `#`) this check refuses.
 */
const NICKNAMES = new Set(['@yearly', '@annually', '@monthly', '@weekly', '@daily', '@midnight', '@hourly']);
const MONTHS = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'];
const WEEKDAYS = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'];

interface FieldRule {
  min: number;
  max: number;
  names?: string[];
  /** Value of the first name (months count from 1, weekdays from 0). */
  firstName?: number;
}

const SECOND: FieldRule = { min: 0, max: 59 };
const FIVE_FIELDS: FieldRule[] = [
  { min: 0, max: 59 },
  { min: 0, max: 23 },
  { min: 1, max: 31 },
  { min: 1, max: 12, names: MONTHS, firstName: 1 },
  { min: 0, max: 7, names: WEEKDAYS, firstName: 0 },
];

export function isStandardCronExpression(expression: string): boolean {
  const trimmed = expression.trim();
  if (NICKNAMES.has(trimmed.toLowerCase())) return true;
  const fields = trimmed.split(/\s+/);
  const rules = fields.length === 6 ? [SECOND, ...FIVE_FIELDS] : fields.length === 5 ? FIVE_FIELDS : undefined;
  if (!rules || trimmed === '') return false;
  return fields.every((field, i) => field.split(',').every((item) => isValidItem(item, rules[i])));
}

function isValidItem(item: string, rule: FieldRule): boolean {
  const m = /^(\*|[a-z0-9]+(?:-[a-z0-9]+)?)(?:\/(\d+))?$/i.exec(item);
  if (!m) return false;
  const [, base, step] = m;
  if (step !== undefined && Number(step) < 1) return false;
  if (base === '*') return true;
  const [from, to] = base.split('-').map((v) => valueOf(v, rule));
  if (from === undefined) return false;
  // `n/step` means nothing in standard cron; a step needs `*` or a range.
  if (to === undefined) return !base.includes('-') && step === undefined;
  return from <= to;
}

function valueOf(text: string, rule: FieldRule): number | undefined {
  if (/^\d+$/.test(text)) {
    const n = Number(text);
    return n >= rule.min && n <= rule.max ? n : undefined;
  }
  const index = rule.names?.indexOf(text.toLowerCase()) ?? -1;
  return index >= 0 ? index + (rule.firstName ?? 0) : undefined;
}

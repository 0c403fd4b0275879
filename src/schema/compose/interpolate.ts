import { ValidationError } from '../../domain/errors';

/**
 * Compose's variable interpolation (compose-spec 12-interpolation.md), applied to values, never to keys:
 *
 *   $VAR  ${VAR}            the value, or "" with a warning when unset
 *   ${VAR:-default}         default when VAR is unset or empty      ${VAR-default}  only when unset
 *   ${VAR:?message}         refused with the message when unset or empty   ${VAR?message}  only when unset
 *   ${VAR:+replacement}     replacement when VAR is set and not empty ${VAR+replacement} when set
 *   $$                      a literal $
 *
 * Defaults, messages and replacements are interpolated themselves (nesting). Anything else after a
 * `$` (`$1`, `${VAR/a/b}`, a lone `$` at the end) is an invalid template, as in Compose.
 */
export interface Interpolation {
  value: string;
  /** Variables used without a value and without a default. */
  unset: string[];
}

const NAME = /^[_A-Za-z][_A-Za-z0-9]*/;

export function interpolate(template: string, env: Readonly<Record<string, string>>, field: string): Interpolation {
  const unset: string[] = [];
  const value = expand(template, env, field, unset);
  return { value, unset };
}

function expand(template: string, env: Readonly<Record<string, string>>, field: string, unset: string[]): string {
  let out = '';
  let i = 0;
  while (i < template.length) {
    const dollar = template.indexOf('$', i);
    if (dollar < 0) {
      out += template.slice(i);
      break;
    }
    out += template.slice(i, dollar);
    const next = template[dollar + 1];
    if (next === '$') {
      out += '$';
      i = dollar + 2;
      continue;
    }
    if (next === '{') {
      const close = matchingBrace(template, dollar + 1);
      if (close < 0) throw invalid(template, field);
      out += braced(template.slice(dollar + 2, close), template, env, field, unset);
      i = close + 1;
      continue;
    }
    const name = NAME.exec(template.slice(dollar + 1));
    if (!name) throw invalid(template, field);
    out += lookup(name[0], env, unset);
    i = dollar + 1 + name[0].length;
  }
  return out;
}

/** Index of the `}` closing the `{` at `open`, counting nested `${`; -1 when there is none. */
function matchingBrace(s: string, open: number): number {
  let depth = 0;
  for (let i = open; i < s.length; i++) {
    if (s[i] === '$' && s[i + 1] === '$') { i++; continue; }
    if (s[i] === '{') depth++;
    else if (s[i] === '}' && --depth === 0) return i;
  }
  return -1;
}

function braced(inner: string, template: string, env: Readonly<Record<string, string>>, field: string, unset: string[]): string {
  const name = NAME.exec(inner)?.[0];
  if (!name) throw invalid(template, field);
  const rest = inner.slice(name.length);
  if (rest === '') return lookup(name, env, unset);
  const op = /^(:?[-?+])/.exec(rest)?.[1];
  if (!op) throw invalid(template, field);
  const arg = () => expand(rest.slice(op.length), env, field, unset);
  const value = env[name];
  const isSet = value !== undefined;
  const hasValue = isSet && value !== '';
  switch (op) {
    case ':-': return hasValue ? value : arg();
    case '-': return isSet ? value : arg();
    case ':+': return hasValue ? arg() : '';
    case '+': return isSet ? arg() : '';
    case ':?':
    case '?': {
      if (op === ':?' ? hasValue : isSet) return value;
      const message = arg();
      throw new ValidationError(field, `required variable ${name} is missing a value${message ? `: ${message}` : ''}`);
    }
    default: throw invalid(template, field);
  }
}

function lookup(name: string, env: Readonly<Record<string, string>>, unset: string[]): string {
  const value = env[name];
  if (value === undefined) {
    if (!unset.includes(name)) unset.push(name);
    return '';
  }
  return value;
}

function invalid(template: string, field: string): ValidationError {
  return new ValidationError(field, `invalid interpolation format in '${template}' (write $$ for a literal $)`);
}

/**
 * Interpolates every string value of a parsed document (keys are left alone), recording the path of
 * each value in errors and warnings. Numbers and booleans are kept as they are.
 */
export function interpolateDocument(value: unknown, env: Readonly<Record<string, string>>, path: string, warnings: string[]): unknown {
  if (typeof value === 'string') {
    const { value: expanded, unset } = interpolate(value, env, path);
    for (const name of unset) warnings.push(`${path}: variable ${name} is not set, an empty string is used`);
    return expanded;
  }
  if (Array.isArray(value)) return value.map((item, i) => interpolateDocument(item, env, `${path}[${i}]`, warnings));
  if (typeof value === 'object' && value !== null) {
    const out: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(value)) {
      // Extension fields (x-…) are data for tools, interpolated like the rest.
      out[key] = interpolateDocument(item, env, path ? `${path}.${key}` : key, warnings);
    }
    return out;
  }
  return value;
}

/**
 * A `.env` file as Compose reads it: `KEY=VALUE` lines, `#` comments, an optional `export ` prefix;
 * single-quoted values are literal; double-quoted values know `\n`, `\t`, `\\`, `\"` and are
 * interpolated; unquoted values lose an inline ` #comment` and surrounding blanks and are
 * interpolated. Interpolation sees the variables defined above the line (and `base`). A line holding
 * only `KEY` leaves KEY unset.
 */
export function parseDotEnv(text: string, base: Readonly<Record<string, string>> = {}, field = 'env'): Record<string, string> {
  const out: Record<string, string> = {};
  const scope = () => ({ ...base, ...out });
  const lines = text.split(/\r?\n/);
  for (let n = 0; n < lines.length; n++) {
    const where = `${field}:${n + 1}`;
    let line = lines[n].trim();
    if (line === '' || line.startsWith('#')) continue;
    if (line.startsWith('export ')) line = line.slice('export '.length).trimStart();
    const eq = line.indexOf('=');
    const key = (eq < 0 ? line : line.slice(0, eq)).trim();
    if (!/^[_A-Za-z][_A-Za-z0-9.-]*$/.test(key)) throw new ValidationError(where, `'${key}' is not a variable name`);
    if (eq < 0) continue;
    let raw = line.slice(eq + 1).trimStart();
    if (raw.startsWith("'")) {
      const end = raw.indexOf("'", 1);
      if (end < 0) throw new ValidationError(where, 'unterminated single quote');
      out[key] = raw.slice(1, end);
    } else if (raw.startsWith('"')) {
      // A double-quoted value may span lines.
      let body = raw.slice(1);
      let end = closingQuote(body);
      while (end < 0 && n + 1 < lines.length) {
        body += `\n${lines[++n]}`;
        end = closingQuote(body);
      }
      if (end < 0) throw new ValidationError(where, 'unterminated double quote');
      const unescaped = body.slice(0, end).replace(/\\([nrt"\\$])/g, (_, c: string) => ({ n: '\n', r: '\r', t: '\t' } as Record<string, string>)[c] ?? (c === '$' ? '$$' : c));
      out[key] = interpolate(unescaped, scope(), where).value;
    } else {
      const comment = raw.search(/\s#/);
      if (comment >= 0) raw = raw.slice(0, comment);
      out[key] = interpolate(raw.trim(), scope(), where).value;
    }
  }
  return out;
}

function closingQuote(s: string): number {
  for (let i = 0; i < s.length; i++) {
    if (s[i] === '\\') i++;
    else if (s[i] === '"') return i;
  }
  return -1;
}

import { z } from 'zod';
import { ValidationError } from '../domain/errors';
import {
  TemplateFields,
  ATTEMPT_REASONS, DEFAULT_INPUT_MAX_BYTES, DEFAULT_KEEP_LOGS_KIB, DEFAULT_RETRY_ON,
} from '../domain/job';
import { absentOr, closedObject, nonEmptyString, readShape, stringMap, wholeNumber } from './shape';

/** A week: a job longer than that is a service, not a job. */
export const MAX_JOB_TIMEOUT_S = 7 * 86_400;
/** Templates' names become image names (`ecoware-job/<name>:<rev>`) and URL segments. */
export const TEMPLATE_NAME = /^[a-z0-9][a-z0-9_.-]{0,62}$/;
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const LABEL_KEY = /^[A-Za-z0-9]([A-Za-z0-9._/-]{0,251}[A-Za-z0-9])?$/;
const LABEL_VALUE = /^[A-Za-z0-9._/:-]{0,253}$/;
const MAX_INPUT_BYTES = 16 * 1024 * 1024;

const noNul = (s: string) => !s.includes('\0');
const seconds = (max: number) => {
  const problem = `must be a positive number of seconds (at most ${max})`;
  return z.number({ invalid_type_error: problem }).finite(problem).positive(problem).max(max, problem);
};
const text = () => z.string({ invalid_type_error: 'must be a string' }).refine(noNul, 'must not contain NUL characters');
const imageRef = () => nonEmptyString().refine((s) => /^[A-Za-z0-9][A-Za-z0-9._/:@-]*$/.test(s) && s.length <= 255, 'is not an image reference (e.g. busybox:latest)');

/** What a job template reads from its PUT body, before defaults. */
export const TEMPLATE_SHAPE = closedObject({
  image: absentOr(imageRef()),
  install: absentOr(closedObject({
    base_image: imageRef(),
    script: absentOr(text().refine((s) => s.trim() !== '', 'must not be empty')),
    script_url: absentOr(z.string({ invalid_type_error: 'must be a URL' }).url('must be an http(s) URL').refine((u) => /^https?:\/\//.test(u), 'must be an http(s) URL')),
  })),
  command: absentOr(z.union([
    z.array(text(), { invalid_type_error: 'must be an array of strings or a string' }).min(1, 'must not be empty'),
    text().refine((s) => s.trim() !== '', 'must not be empty'),
  ], { errorMap: () => ({ message: 'must be an array of strings or a string' }) })),
  env: absentOr(stringMap()),
  cwd: absentOr(nonEmptyString().refine((p) => p.startsWith('/') && noNul(p), 'must be an absolute path (inside the container)')),
  cpu_cores: absentOr(wholeNumber({ min: 1, max: 1024 })),
  mem_units: absentOr(wholeNumber({ min: 1, max: 1 << 20 })),
  timeout_s: absentOr(seconds(MAX_JOB_TIMEOUT_S)),
  retries: absentOr(wholeNumber({ min: 0, max: 100 })),
  retry_on: absentOr(z.array(z.enum(ATTEMPT_REASONS, { errorMap: () => ({ message: `must be one of ${ATTEMPT_REASONS.filter((r) => r !== 'cancelled').join(', ')}` }) }), { invalid_type_error: 'must be an array' })
    .refine((r) => !r.includes('cancelled'), 'a cancelled job is never retried')),
  input: absentOr(closedObject({
    mode: absentOr(z.enum(['arg', 'stdin', 'file'], { errorMap: () => ({ message: 'must be arg, stdin or file' }) })),
    max_bytes: absentOr(wholeNumber({ min: 1, max: MAX_INPUT_BYTES })),
  })),
  max_concurrent: absentOr(wholeNumber({ min: 1, max: 100_000 })),
  max_queue_s: absentOr(seconds(MAX_JOB_TIMEOUT_S)),
  node_selector: absentOr(z.record(z.string(), z.string({ invalid_type_error: 'must be a string' }), { invalid_type_error: 'must be an object of strings' })),
  keep_logs_kib: absentOr(wholeNumber({ min: 1, max: 64 * 1024 })),
});

/** A template as read from its body, defaults applied (the daemon's `--job-log-kib` for logs). */
export type TemplateInput = TemplateFields;

/** Reads `PUT /api/job-templates/:name`; every mistake is a ValidationError naming its field. */
export function parseJobTemplate(name: string, value: unknown, defaults: { keepLogsKib?: number } = {}): TemplateInput {
  if (!TEMPLATE_NAME.test(name)) throw new ValidationError('name', 'must be 1-63 lower-case letters, digits, ".", "_" or "-", starting with a letter or digit');
  const t = readShape(TEMPLATE_SHAPE, value, '');
  if ((t.image === undefined) === (t.install === undefined)) throw new ValidationError(t.image ? 'install' : 'image', 'give either image or install, not both and not neither');
  if (t.install && (t.install.script === undefined) === (t.install.script_url === undefined)) {
    throw new ValidationError('install.script', 'give either script or script_url');
  }
  for (const key of Object.keys(t.env ?? {})) if (!ENV_NAME.test(key)) throw new ValidationError(`env.${key}`, 'is not a valid environment variable name');
  for (const [key, v] of Object.entries(t.env ?? {})) if (!noNul(v)) throw new ValidationError(`env.${key}`, 'must not contain NUL characters');
  readSelector(t.node_selector, 'node_selector');
  const command = typeof t.command === 'string' ? t.command.trim().split(/\s+/) : t.command;
  return {
    ...(t.image !== undefined ? { image: t.image } : {}),
    ...(t.install ? { install: { base_image: t.install.base_image, ...(t.install.script !== undefined ? { script: t.install.script } : {}), ...(t.install.script_url !== undefined ? { script_url: t.install.script_url } : {}) } } : {}),
    // An install leaves `main.sh` runnable in its working directory (POD's activities).
    ...(command ? { command } : t.install ? { command: ['./main.sh'] } : {}),
    env: t.env ?? {},
    ...(t.cwd !== undefined ? { cwd: t.cwd } : t.install ? { cwd: '/ecoware/app' } : {}),
    cpu_cores: t.cpu_cores ?? 1,
    mem_units: t.mem_units ?? 1,
    ...(t.timeout_s !== undefined ? { timeout_s: t.timeout_s } : {}),
    retries: t.retries ?? 0,
    retry_on: t.retry_on ? [...new Set(t.retry_on)] : [...DEFAULT_RETRY_ON],
    input: { mode: t.input?.mode ?? 'arg', max_bytes: t.input?.max_bytes ?? DEFAULT_INPUT_MAX_BYTES },
    ...(t.max_concurrent !== undefined ? { max_concurrent: t.max_concurrent } : {}),
    ...(t.max_queue_s !== undefined ? { max_queue_s: t.max_queue_s } : {}),
    ...(t.node_selector && Object.keys(t.node_selector).length > 0 ? { node_selector: t.node_selector } : {}),
    keep_logs_kib: t.keep_logs_kib ?? defaults.keepLogsKib ?? DEFAULT_KEEP_LOGS_KIB,
  };
}

/** A node selector's keys and values as node labels allow them. */
export function readSelector(selector: Record<string, string> | undefined, field: string): void {
  for (const [key, v] of Object.entries(selector ?? {})) {
    if (!LABEL_KEY.test(key)) throw new ValidationError(`${field}.${key}`, 'is not a valid label key');
    if (!LABEL_VALUE.test(v)) throw new ValidationError(`${field}.${key}`, 'is not a valid label value');
  }
}

const DISPATCH_SHAPE = closedObject({
  template: nonEmptyString('is required (the name of a job template, or process:<id>)'),
  input: absentOr(z.string({ invalid_type_error: 'must be a string' })),
  env: absentOr(stringMap()),
  idempotency_key: absentOr(nonEmptyString().refine((k) => k.length <= 200, 'must be at most 200 characters')),
  timeout_s: absentOr(seconds(MAX_JOB_TIMEOUT_S)),
  max_queue_s: absentOr(seconds(MAX_JOB_TIMEOUT_S)),
  priority: absentOr(wholeNumber({ min: -1000, max: 1000 })),
  // Only with `process:<id>`: a process definition names no image.
  image: absentOr(imageRef()),
});

export interface DispatchInput {
  template: string;
  input?: string;
  env?: Record<string, string>;
  idempotency_key?: string;
  timeout_s?: number;
  max_queue_s?: number;
  priority: number;
  image?: string;
}

/** Reads `POST /api/jobs`; the template's own limits (input size, resources) are checked by the use case. */
export function parseDispatch(value: unknown): DispatchInput {
  const d = readShape(DISPATCH_SHAPE, value, '');
  for (const [key, v] of Object.entries(d.env ?? {})) {
    if (!ENV_NAME.test(key)) throw new ValidationError(`env.${key}`, 'is not a valid environment variable name');
    if (!noNul(v)) throw new ValidationError(`env.${key}`, 'must not contain NUL characters');
  }
  if (d.image !== undefined && !d.template.startsWith('process:')) throw new ValidationError('image', 'is only for process:<id> templates (a job template names its image)');
  if (d.input !== undefined && !noNul(d.input)) throw new ValidationError('input', 'must not contain NUL characters');
  return {
    template: d.template,
    ...(d.input !== undefined ? { input: d.input } : {}),
    ...(d.env ? { env: d.env } : {}),
    ...(d.idempotency_key !== undefined ? { idempotency_key: d.idempotency_key } : {}),
    ...(d.timeout_s !== undefined ? { timeout_s: d.timeout_s } : {}),
    ...(d.max_queue_s !== undefined ? { max_queue_s: d.max_queue_s } : {}),
    priority: d.priority ?? 0,
    ...(d.image !== undefined ? { image: d.image } : {}),
  };
}

import { ErrorRequestHandler } from 'express';
import { DomainError, ErrorCode, ValidationError } from '../domain/errors';

/**
 * The one table from error codes to HTTP statuses, for thrown errors and for finished executions
 * alike. Every code must be here (a `Record` over the union), so a new code cannot fall through.
 */
export const STATUS_OF_CODE: Readonly<Record<ErrorCode, number>> = {
  invalid: 400,
  invalid_json: 400,
  not_found: 404,
  conflict: 409,
  cancelled: 409,
  too_large: 413,
  no_solution: 422,
  unsatisfiable: 422,
  // The executor reached an engine, the cloud, git or its state files, and that failed.
  action_failed: 502,
  infrastructure: 502,
  engine: 502,
  cloud: 502,
  cloud_timeout: 502,
  timeout: 502,
  state: 502,
  tls_files: 502,
  not_a_file: 502,
  file_too_large: 502,
  interrupted: 500,
  internal: 500,
};

export function statusOfCode(code: string | undefined): number {
  return (code !== undefined && Object.hasOwn(STATUS_OF_CODE, code)) ? STATUS_OF_CODE[code as ErrorCode] : 500;
}

/** Bodies are `{"error": message, "code": short-code}`; never a stack trace. */
export function statusOf(error: unknown): number {
  return error instanceof DomainError ? statusOfCode(error.code) : 500;
}

export const errorMapper: ErrorRequestHandler = (error, _req, res, _next) => {
  const bodyParserType = (error as { type?: string }).type;
  if (bodyParserType === 'entity.parse.failed') {
    res.status(statusOfCode('invalid_json')).json({ error: `request body is not valid JSON: ${(error as Error).message}`, code: 'invalid_json' });
    return;
  }
  if (bodyParserType === 'entity.too.large') {
    res.status(statusOfCode('too_large')).json({ error: 'request body is too large', code: 'too_large' });
    return;
  }
  if (error instanceof DomainError) {
    res.status(statusOf(error)).json({ error: error.message, code: error.code, ...(error instanceof ValidationError ? { field: error.field } : {}) });
    return;
  }
  console.error('unexpected error:', error);
  res.status(500).json({ error: 'internal error', code: 'internal' });
};

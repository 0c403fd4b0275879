import { ErrorRequestHandler } from 'express';
import { DomainError, ErrorCode, StartingError, ValidationError } from '../domain/errors';
import { isBadBody } from './request-bounds';

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
  // Not an error of the request: the same request succeeds once the daemon has restored its state.
  starting: 503,
};

export function statusOfCode(code: string | undefined): number {
  return (code !== undefined && Object.hasOwn(STATUS_OF_CODE, code)) ? STATUS_OF_CODE[code as ErrorCode] : 500;
}

/** Bodies are `{"error": message, "code": short-code}`; never a stack trace. */
export function statusOf(error: unknown): number {
  return error instanceof DomainError ? statusOfCode(error.code) : 500;
}

/** What body-parser and the router report, by their `type`, in this API's codes. */
const REQUEST_ERRORS: Record<string, { status: number; code: string; message?: string }> = {
  'entity.parse.failed': { status: 400, code: 'invalid_json' },
  'entity.too.large': { status: 413, code: 'too_large', message: 'request body is too large' },
  'charset.unsupported': { status: 415, code: 'unsupported_charset' },
  'encoding.unsupported': { status: 415, code: 'unsupported_encoding' },
  'request.size.invalid': { status: 400, code: 'invalid_body' },
  'request.aborted': { status: 400, code: 'aborted' },
  'stream.encoding.set': { status: 500, code: 'internal' },
};

export const errorMapper: ErrorRequestHandler = (error, req, res, _next) => {
  if (res.headersSent) {
    res.end();
    return;
  }
  if (isBadBody(error)) {
    res.status(400).json({ error: error.message, code: error.code });
    return;
  }
  const bodyParserType = (error as { type?: string }).type;
  const known = bodyParserType ? REQUEST_ERRORS[bodyParserType] : undefined;
  if (known) {
    const message = known.message ?? (bodyParserType === 'entity.parse.failed' ? `request body is not valid JSON: ${(error as Error).message}` : (error as Error).message);
    res.status(known.status).json({ error: message, code: known.code });
    return;
  }
  if (error instanceof URIError) {
    res.status(400).json({ error: `the path is not valid percent-encoding: ${req.path.slice(0, 200)}`, code: 'invalid_path' });
    return;
  }
  const httpStatus = (error as { status?: unknown; expose?: unknown }).status;
  if (typeof httpStatus === 'number' && httpStatus >= 400 && httpStatus < 500 && (error as { expose?: unknown }).expose) {
    // Other client errors of express' own middleware (a body that does not decode, for one).
    res.status(httpStatus).json({ error: (error as Error).message, code: 'bad_request' });
    return;
  }
  if (error instanceof DomainError) {
    if (error instanceof StartingError) res.set('Retry-After', String(error.retryAfterS));
    res.status(statusOf(error)).json({ error: error.message, code: error.code, ...(error instanceof ValidationError ? { field: error.field } : {}) });
    return;
  }
  req.log?.error({ err: error instanceof Error ? { message: error.message, stack: error.stack } : String(error) }, 'unexpected error');
  res.status(500).json({ error: 'internal error', code: 'internal' });
};

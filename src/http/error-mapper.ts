import { ErrorRequestHandler } from 'express';
import {
  ConflictError, DomainError, InfrastructureError, NoSolutionError, NotFoundError, UnsatisfiableError, ValidationError,
} from '../domain/errors';
import { isBadBody } from './request-bounds';

/** The one place where errors become HTTP statuses. Bodies are `{"error": message, "code": short-code}`; never a stack trace. */
export function statusOf(error: unknown): number {
  if (error instanceof ValidationError) return 400;
  if (error instanceof NotFoundError) return 404;
  if (error instanceof ConflictError) return 409;
  if (error instanceof NoSolutionError || error instanceof UnsatisfiableError) return 422;
  if (error instanceof InfrastructureError) return 502;
  return 500;
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
    res.status(statusOf(error)).json({ error: error.message, code: error.code, ...(error instanceof ValidationError ? { field: error.field } : {}) });
    return;
  }
  req.log?.error({ err: error instanceof Error ? { message: error.message, stack: error.stack } : String(error) }, 'unexpected error');
  res.status(500).json({ error: 'internal error', code: 'internal' });
};

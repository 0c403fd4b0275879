import { ErrorRequestHandler } from 'express';
import { DomainError, StartingError, ValidationError } from '../domain/errors';
import { RequestErrorCode, sendError, statusOfCode } from './error-codes';
import { isBadBody } from './request-bounds';

export { STATUS_OF_CODE, statusOfCode } from './error-codes';

/** Bodies are `{"error": message, "code": short-code}`; never a stack trace. */
export function statusOf(error: unknown): number {
  return error instanceof DomainError ? statusOfCode(error.code) : 500;
}

/** What body-parser and the router report, by their `type`, in this API's codes. */
const REQUEST_ERRORS: Record<string, { code: RequestErrorCode | 'invalid_json' | 'too_large' | 'internal'; message?: string }> = {
  'entity.parse.failed': { code: 'invalid_json' },
  'entity.too.large': { code: 'too_large', message: 'request body is too large' },
  'charset.unsupported': { code: 'unsupported_charset' },
  'encoding.unsupported': { code: 'unsupported_encoding' },
  'request.size.invalid': { code: 'invalid_body' },
  'request.aborted': { code: 'aborted' },
  'stream.encoding.set': { code: 'internal' },
};

export const errorMapper: ErrorRequestHandler = (error, req, res, _next) => {
  if (res.headersSent) {
    res.end();
    return;
  }
  if (isBadBody(error)) {
    sendError(res, error.code, error.message);
    return;
  }
  const bodyParserType = (error as { type?: string }).type;
  const known = bodyParserType ? REQUEST_ERRORS[bodyParserType] : undefined;
  if (known) {
    const message = known.message ?? (bodyParserType === 'entity.parse.failed' ? `request body is not valid JSON: ${(error as Error).message}` : (error as Error).message);
    sendError(res, known.code, message);
    return;
  }
  if (error instanceof URIError) {
    sendError(res, 'invalid_path', `the path is not valid percent-encoding: ${req.path.slice(0, 200)}`);
    return;
  }
  const httpStatus = (error as { status?: unknown; expose?: unknown }).status;
  if (typeof httpStatus === 'number' && httpStatus >= 400 && httpStatus < 500 && (error as { expose?: unknown }).expose) {
    // Other client errors of express' own middleware (a body that does not decode, for one).
    res.status(httpStatus).json({ error: (error as Error).message, code: 'bad_request' satisfies RequestErrorCode });
    return;
  }
  if (error instanceof DomainError) {
    if (error instanceof StartingError) res.set('Retry-After', String(error.retryAfterS));
    sendError(res, error.code, error.message, error instanceof ValidationError ? { field: error.field } : {});
    return;
  }
  req.log?.error({ err: error instanceof Error ? { message: error.message, stack: error.stack } : String(error) }, 'unexpected error');
  sendError(res, 'internal', 'internal error');
};

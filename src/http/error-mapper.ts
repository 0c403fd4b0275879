import { ErrorRequestHandler } from 'express';
import {
  ConflictError, DomainError, InfrastructureError, NoSolutionError, NotFoundError, UnsatisfiableError, ValidationError,
} from '../domain/errors';

/** The one place where errors become HTTP statuses. Bodies are `{"error": message, "code": short-code}`; never a stack trace. */
export function statusOf(error: unknown): number {
  if (error instanceof ValidationError) return 400;
  if (error instanceof NotFoundError) return 404;
  if (error instanceof ConflictError) return 409;
  if (error instanceof NoSolutionError || error instanceof UnsatisfiableError) return 422;
  if (error instanceof InfrastructureError) return 502;
  return 500;
}

export const errorMapper: ErrorRequestHandler = (error, _req, res, _next) => {
  const bodyParserType = (error as { type?: string }).type;
  if (bodyParserType === 'entity.parse.failed') {
    res.status(400).json({ error: `request body is not valid JSON: ${(error as Error).message}`, code: 'invalid_json' });
    return;
  }
  if (bodyParserType === 'entity.too.large') {
    res.status(413).json({ error: 'request body is too large', code: 'too_large' });
    return;
  }
  if (error instanceof DomainError) {
    res.status(statusOf(error)).json({ error: error.message, code: error.code, ...(error instanceof ValidationError ? { field: error.field } : {}) });
    return;
  }
  console.error('unexpected error:', error);
  res.status(500).json({ error: 'internal error', code: 'internal' });
};

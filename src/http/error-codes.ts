import { Response } from 'express';
import { ErrorCode } from '../domain/errors';

/**
 * Codes the HTTP layer answers with itself, before or beside a route: who may ask (access, the
 * Host a request names), what a request may carry (media type, encoding, size), and the daemon's
 * own state (shutting down).
 */
export type RequestErrorCode =
  | 'unauthorized' | 'forbidden' | 'misdirected'
  | 'unsupported_media_type' | 'unsupported_charset' | 'unsupported_encoding' | 'invalid_utf8' | 'invalid_body' | 'aborted'
  | 'invalid_path' | 'bad_request'
  | 'shutting_down';

/** Every code an error answer of the API carries: the domain's and the HTTP layer's. */
export type HttpErrorCode = ErrorCode | RequestErrorCode;

/**
 * The one table from error codes to HTTP statuses, for thrown errors, finished executions and the
 * HTTP layer's own refusals alike. Every code must be here (a `Record` over the union), so a new
 * code cannot fall through.
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
  held_by_jobs: 422,
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

export const STATUS_OF_REQUEST_CODE: Readonly<Record<RequestErrorCode, number>> = {
  unauthorized: 401,
  forbidden: 403,
  misdirected: 421,
  unsupported_media_type: 415,
  unsupported_charset: 415,
  unsupported_encoding: 415,
  invalid_utf8: 400,
  invalid_body: 400,
  aborted: 400,
  invalid_path: 400,
  bad_request: 400,
  shutting_down: 503,
};

/** The status of a code; 500 for one this daemon does not know (a record written by another version). */
export function statusOfCode(code: string | undefined): number {
  if (code === undefined) return 500;
  if (Object.hasOwn(STATUS_OF_CODE, code)) return STATUS_OF_CODE[code as ErrorCode];
  if (Object.hasOwn(STATUS_OF_REQUEST_CODE, code)) return STATUS_OF_REQUEST_CODE[code as RequestErrorCode];
  return 500;
}

/** Answers `{"error": message, "code": code, ...extra}` with the status of its code. */
export function sendError(res: Response, code: HttpErrorCode, message: string, extra: Record<string, unknown> = {}): void {
  res.status(statusOfCode(code)).json({ error: message, code, ...extra });
}

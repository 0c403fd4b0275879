import { isUtf8 } from 'node:buffer';
import { RequestHandler } from 'express';
import { RequestErrorCode, sendError } from './error-codes';

/** How deep a JSON body may nest: a topology needs about 6 levels, a process definition about 5. */
const MAX_JSON_DEPTH = 32;

/** A body refused while it is read (body-parser wraps it; the error mapper answers 400). */
class BadBody extends Error {
  constructor(readonly code: RequestErrorCode, message: string) {
    super(message);
  }
}

/** `application/json` or `application/*+json`, parameters aside: the bodies the API reads. */
export function isJsonMediaType(contentType: string | undefined): boolean {
  const mediaType = contentType?.split(';')[0].trim().toLowerCase();
  return mediaType === 'application/json' || (mediaType !== undefined && mediaType.startsWith('application/') && mediaType.endsWith('+json'));
}

/**
 * Bounds checked at the door, before any route: a body is JSON only when sent as
 * `application/json` or `application/*+json` (415 otherwise: a browser cannot send that cross-site without a preflight,
 * which is never granted); an empty body is no body; the bytes must be UTF-8; the value may nest
 * at most MAX_JSON_DEPTH levels and holds no number JSON cannot carry back (1e400).
 */
export function requireJsonBodies(): RequestHandler {
  return (req, res, next) => {
    const length = req.get('content-length');
    const hasBody = (length !== undefined && length !== '0') || req.get('transfer-encoding') !== undefined;
    if (!hasBody) {
      next();
      return;
    }
    const type = req.get('content-type');
    if (!isJsonMediaType(type)) {
      sendError(res, 'unsupported_media_type', `request bodies must be JSON sent as Content-Type: application/json (got ${type ? `'${type.slice(0, 100)}'` : 'none'})`);
      return;
    }
    next();
  };
}

/**
 * Requests whose body was read and held no bytes. A chunked body can be empty too, and body-parser
 * answers an empty body with `{}`, which would read as an empty plan.
 */
const emptyBodies = new WeakSet<object>();

/** body-parser's `verify`: refuses bytes that are not UTF-8 instead of storing them mangled; notes an empty body. */
export function verifyBody(req: object, _res: unknown, buffer: Buffer): void {
  if (buffer.length === 0) emptyBodies.add(req);
  if (!isUtf8(buffer)) throw new BadBody('invalid_utf8', 'request body is not valid UTF-8');
}

/** After parsing: an empty body is absent; too deep or non-finite values are refused. */
export function checkParsedBody(): RequestHandler {
  return (req, res, next) => {
    if (req.get('content-length') === '0' || emptyBodies.has(req)) req.body = undefined;
    if (req.body !== undefined) {
      const problem = shapeProblem(req.body);
      if (problem) {
        sendError(res, 'invalid', `request body ${problem}`);
        return;
      }
    }
    next();
  };
}

function shapeProblem(value: unknown): string | undefined {
  const stack: [unknown, number][] = [[value, 1]];
  while (stack.length > 0) {
    const [v, depth] = stack.pop()!;
    if (typeof v === 'number' && !Number.isFinite(v)) return 'holds a number too large to represent';
    if (v === null || typeof v !== 'object') continue;
    if (depth > MAX_JSON_DEPTH) return `nests deeper than ${MAX_JSON_DEPTH} levels`;
    for (const child of Array.isArray(v) ? v : Object.values(v)) stack.push([child, depth + 1]);
  }
  return undefined;
}

export function isBadBody(error: unknown): error is BadBody {
  return error instanceof BadBody;
}

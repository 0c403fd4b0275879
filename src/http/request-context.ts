import { randomUUID } from 'node:crypto';
import { RequestHandler } from 'express';
import { log, Logger } from '../log';

declare module 'express-serve-static-core' {
  interface Request {
    /** From `X-Request-Id` when the caller sent a usable one, made here otherwise; returned in the answer. */
    id: string;
    log: Logger;
  }
}

const USABLE_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/**
 * Gives every request an id (taken from `X-Request-Id`, or made), returns it as `X-Request-Id`,
 * and logs one JSON line when the answer is sent: method, path (without the query string, which
 * may carry secrets), status and duration.
 */
export function requestContext(): RequestHandler {
  return (req, res, next) => {
    const given = req.get('x-request-id');
    req.id = given && USABLE_ID.test(given) ? given : randomUUID();
    req.log = log.child({ request_id: req.id });
    res.set('X-Request-Id', req.id);
    const started = process.hrtime.bigint();
    res.on('finish', () => {
      const ms = Number(process.hrtime.bigint() - started) / 1e6;
      const level = res.statusCode >= 500 ? 'error' : 'info';
      req.log[level]({ method: req.method, path: req.path, status: res.statusCode, duration_ms: Math.round(ms * 10) / 10 }, 'request');
    });
    next();
  };
}

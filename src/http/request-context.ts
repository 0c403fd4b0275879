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
 * may carry secrets), status and duration. Reads that succeed (GET and HEAD below 400: probes,
 * dashboards, planners polling) are logged at `debug`, everything else at `info` (`error` for 5xx),
 * as Nomad and the Kubernetes API server keep routine reads out of the default log; a line per
 * poll was most of what a read cost. The request's child logger is made when first used.
 */
export function requestContext(): RequestHandler {
  return (req, res, next) => {
    const given = req.get('x-request-id');
    const id = given && USABLE_ID.test(given) ? given : randomUUID();
    req.id = id;
    let child: Logger | undefined;
    Object.defineProperty(req, 'log', {
      configurable: true,
      enumerable: false,
      get: () => (child ??= log.child({ request_id: id })),
    });
    res.setHeader('X-Request-Id', id);
    const started = process.hrtime.bigint();
    res.on('finish', () => {
      const status = res.statusCode;
      const level = status >= 500 ? 'error' : (status < 400 && (req.method === 'GET' || req.method === 'HEAD')) ? 'debug' : 'info';
      if (!log.isLevelEnabled(level)) return;
      const ms = Number(process.hrtime.bigint() - started) / 1e6;
      req.log[level]({ method: req.method, path: req.path, status, duration_ms: Math.round(ms * 10) / 10 }, 'request');
    });
    next();
  };
}

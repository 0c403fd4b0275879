import { RequestHandler } from 'express';
import { isPodChange } from './pod-routes';

/** Who leads, as the lease row says. */
export interface LeaderView {
  holder: string;
  url: string | null;
  since: string;
  epoch: number;
}

/** Whether a request changes something: any method but GET and HEAD. */
export function isChange(method: string): boolean {
  return method !== 'GET' && method !== 'HEAD';
}

/**
 * The role gate of a standby (SPEC §12), in front of every route that changes something: a change
 * is answered `307` to the leader's advertised URL with the same path and query (a client that
 * follows it sends the same method and body there), or `503` with `Retry-After: 2` when no daemon
 * leads or the leader advertises no URL. Reads pass on to the same routes the leader serves.
 */
export function standbyGate(leader: () => Promise<LeaderView | undefined>): RequestHandler {
  return (req, res, next) => {
    // POD's API changes things with GETs (src/http/pod-routes.ts).
    if (!isChange(req.method) && !isPodChange(req.path, req.query)) {
      next();
      return;
    }
    req.resume();
    leader().then((current) => {
      res.set('Cache-Control', 'no-store');
      if (current?.url) {
        res.status(307).location(`${current.url}${req.originalUrl}`)
          .json({ error: `this daemon stands by: ${current.holder} leads at ${current.url}`, code: 'not_leader', leader: current });
        return;
      }
      res.status(503).set('Retry-After', '2').json({
        error: current ? `this daemon stands by: ${current.holder} leads but advertises no URL` : 'this daemon stands by and no daemon leads right now',
        code: 'not_leader',
        ...(current ? { leader: current } : {}),
      });
    }).catch((e: Error) => {
      res.status(503).set('Retry-After', '2').json({ error: `this daemon stands by and cannot read the lease: ${e.message}`, code: 'not_leader' });
    });
  };
}

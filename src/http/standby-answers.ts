import { IncomingMessage, ServerResponse } from 'node:http';

/** Who leads, as the lease row says. */
export interface LeaderView {
  holder: string;
  url: string | null;
  since: string;
  epoch: number;
}

/**
 * What a standby answers while another daemon leads (SPEC §12): `/livez` 200; `/readyz` 503 with
 * its role; `GET /api/leader`; a change (any method but GET and HEAD) `307` to the leader's
 * advertised URL, or `503` with `Retry-After: 2` when no leader or no URL is known. Reads answer
 * 503 with `Retry-After` as well: a standby serves no state yet.
 */
export function standbyAnswers(leader: () => Promise<LeaderView | undefined>) {
  return (req: IncomingMessage, res: ServerResponse): void => {
    req.resume();
    const route = (req.url ?? '').split('?')[0];
    const send = (status: number, body: unknown, headers: Record<string, string> = {}) => {
      res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', ...headers });
      res.end(JSON.stringify(body));
    };
    const read = req.method === 'GET' || req.method === 'HEAD';
    if (read && (route === '/livez' || route === '/healthz')) {
      send(200, { status: 'ok' });
      return;
    }
    if (read && route === '/readyz') {
      send(503, { status: 'unavailable', role: 'standby', failing: ['leader'] });
      return;
    }
    leader().then((current) => {
      if (read && route === '/api/leader') send(200, { leader: current ?? null, self: 'standby' });
      else if (!read && current?.url) {
        res.writeHead(307, { location: `${current.url}${req.url ?? '/'}`, 'content-type': 'application/json; charset=utf-8' });
        res.end(JSON.stringify({ error: `this daemon stands by: ${current.holder} leads at ${current.url}`, code: 'not_leader' }));
      } else {
        send(503, {
          error: read ? 'this daemon stands by and serves no state yet: ask the leader' : current ? `this daemon stands by: ${current.holder} leads but advertises no URL` : 'this daemon stands by and no daemon leads right now',
          code: 'not_leader',
          ...(current ? { leader: current } : {}),
        }, { 'retry-after': '2' });
      }
    }).catch((e: Error) => send(503, { error: `this daemon stands by and cannot read the lease: ${e.message}`, code: 'not_leader' }, { 'retry-after': '2' }));
  };
}

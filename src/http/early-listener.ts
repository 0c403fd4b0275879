import { readFileSync } from 'node:fs';
import { createServer as createHttpServer, IncomingMessage, Server, ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { isLoopback } from './loopback';

export interface EarlyListenOptions {
  port: number;
  host: string;
  tlsCert?: string;
  tlsKey?: string;
}

/**
 * The daemon's port, opened before the daemon's modules are loaded (the Docker client, express, the
 * state database: most of a start): from then on `/livez` answers 200, `/readyz` 503, and every
 * other request 503 `starting` with `Retry-After`, as requests that need the restored state do
 * later (SPEC §7). `startDaemon` takes the server over and serves the API on it.
 */
export async function listenEarly(options: EarlyListenOptions): Promise<Server> {
  const tls = options.tlsCert && options.tlsKey ? { cert: readFileSync(options.tlsCert), key: readFileSync(options.tlsKey) } : undefined;
  const server: Server = tls ? createHttpsServer(tls, answerStarting) : createHttpServer(answerStarting);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => { server.off('error', reject); resolve(); });
  });
  return server;
}

/** Whether the port may open before the daemon's own checks ran: only where they would let it open. */
export function mayListenEarly(config: { host: string; tokensFile?: string; insecureNoAuth?: boolean; tlsCert?: string; tlsKey?: string }): boolean {
  return (config.tokensFile !== undefined || isLoopback(config.host) || config.insecureNoAuth === true) && !!config.tlsCert === !!config.tlsKey;
}

function answerStarting(req: IncomingMessage, res: ServerResponse): void {
  const route = (req.url ?? '').split('?')[0];
  const send = (status: number, body: unknown, headers: Record<string, string> = {}) => {
    res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', ...headers });
    res.end(JSON.stringify(body));
  };
  if (req.method === 'GET' && (route === '/livez' || route === '/healthz')) send(200, { status: 'ok' });
  else if (req.method === 'GET' && route === '/readyz') send(503, { status: 'unavailable', failing: ['starting'] });
  else send(503, { error: 'the daemon is starting: its modules are loading', code: 'starting' }, { 'retry-after': '1' });
  req.resume();
}

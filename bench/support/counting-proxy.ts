import * as http from 'node:http';
import { AddressInfo } from 'node:net';

/**
 * An HTTP proxy in front of a Docker engine's TCP API that counts the calls going through it, by
 * method and path with the API version and object names left out (`GET /containers/{}/json`).
 * The daemon is given the proxy's endpoint in place of the engine's, so every call it makes to the
 * engine is counted.
 */
export class CountingProxy {
  private readonly counts = new Map<string, number>();
  private server?: http.Server;
  private readonly agent = new http.Agent({ keepAlive: true });

  constructor(private readonly target: { host: string; port: number }) {}

  async start(): Promise<string> {
    this.server = http.createServer((req, res) => {
      const key = `${req.method} ${normalisePath(req.url ?? '/')}`;
      this.counts.set(key, (this.counts.get(key) ?? 0) + 1);
      const upstream = http.request({ ...this.target, method: req.method, path: req.url, headers: req.headers, agent: this.agent }, (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      });
      upstream.on('error', () => { res.destroy(); });
      req.pipe(upstream);
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    return `tcp://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  /** The calls counted since the last `take`, and the count starts again. */
  take(): Map<string, number> {
    const taken = new Map(this.counts);
    this.counts.clear();
    return taken;
  }

  async stop(): Promise<void> {
    this.agent.destroy();
    if (!this.server) return;
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server!.close(() => resolve()));
  }
}

const COLLECTIONS = new Set(['containers', 'networks', 'volumes', 'images', 'exec']);
const VERBS = new Set(['json', 'create', 'prune']);

function normalisePath(url: string): string {
  const parts = url.split('?')[0].split('/').filter((p) => p !== '');
  if (parts.length > 0 && /^v\d+\.\d+$/.test(parts[0])) parts.shift();
  for (let i = 1; i < parts.length; i++) {
    if (COLLECTIONS.has(parts[i - 1]) && !VERBS.has(parts[i])) parts[i] = '{}';
  }
  return `/${parts.join('/')}`;
}

import { promises as fs } from 'node:fs';
import * as net from 'node:net';

/** One piece of a request stream a client sent to the engine through the proxy. */
export interface ProxiedChunk {
  /** Process that owns the client end of the connection (undefined when it could not be told). */
  pid?: number;
  /** Date.now() when the proxy received it. */
  at: number;
  /** The request line when the chunk starts a request (`GET /containers/json`), else undefined. */
  request?: string;
}

/**
 * A TCP proxy in front of a Docker engine that counts, per client process, what reaches the
 * engine: a test that gives every daemon this proxy's URL (the topology's node engine and
 * DOCKER_HOST) can tell exactly which daemon made which engine call. Each connection is traced to
 * the process holding its client end (/proc/net/tcp and /proc/<pid>/fd, among `pids()`), so
 * several daemons on one engine are told apart. `delayMs` holds every chunk that long before it is
 * forwarded (in order), to make executions slow on purpose.
 */
export class EngineProxy {
  readonly chunks: ProxiedChunk[] = [];
  delayMs = 0;
  private server?: net.Server;
  private readonly sockets = new Set<net.Socket>();

  constructor(private readonly engineUrl: string, private readonly pids: () => number[]) {}

  /** `tcp://127.0.0.1:<port>` */
  url = '';

  async start(): Promise<string> {
    const server = net.createServer((client) => this.accept(client));
    this.server = server;
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    this.url = `tcp://127.0.0.1:${(server.address() as net.AddressInfo).port}`;
    return this.url;
  }

  /** Requests that reached the engine from `pid` at or after `since` (ms since the epoch). */
  requestsFrom(pid: number, since = 0): ProxiedChunk[] {
    return this.chunks.filter((c) => c.pid === pid && c.at >= since);
  }

  async stop(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise((resolve) => this.server?.close(resolve));
  }

  private accept(client: net.Socket): void {
    this.sockets.add(client);
    const upstream = this.connectUpstream();
    this.sockets.add(upstream);
    const owner = ownerOf(client.remotePort ?? 0, this.pids());
    let chain: Promise<unknown> = Promise.resolve();
    client.on('data', (data) => {
      const chunk: ProxiedChunk = { at: Date.now(), request: /^(GET|POST|PUT|DELETE|HEAD) (\S+)/.exec(data.toString('latin1', 0, 200))?.slice(1, 3).join(' ') };
      this.chunks.push(chunk);
      chain = chain.then(async () => {
        chunk.pid = await owner;
        if (this.delayMs > 0) await new Promise((r) => setTimeout(r, this.delayMs));
        if (!upstream.destroyed) upstream.write(data);
      });
    });
    upstream.on('data', (data) => { if (!client.destroyed) client.write(data); });
    const close = () => { client.destroy(); upstream.destroy(); this.sockets.delete(client); this.sockets.delete(upstream); };
    client.on('close', () => { void chain.then(close); });
    upstream.on('close', close);
    client.on('error', close);
    upstream.on('error', close);
  }

  private connectUpstream(): net.Socket {
    const unix = /^unix:\/\/(.+)$/.exec(this.engineUrl);
    if (unix) return net.connect(unix[1]);
    const tcp = /^tcp:\/\/([^:]+):(\d+)/.exec(this.engineUrl);
    if (!tcp) throw new Error(`engine proxy: cannot reach ${this.engineUrl}`);
    return net.connect(Number(tcp[2]), tcp[1]);
  }
}

/** The process among `pids` holding the local TCP endpoint 127.0.0.1:`port`, found through /proc. */
async function ownerOf(port: number, pids: number[]): Promise<number | undefined> {
  const local = `0100007F:${port.toString(16).toUpperCase().padStart(4, '0')}`;
  const table = await fs.readFile('/proc/net/tcp', 'utf8').catch(() => '');
  const row = table.split('\n').map((l) => l.trim().split(/\s+/)).find((f) => f[1] === local);
  if (!row) return undefined;
  const socket = `socket:[${row[9]}]`;
  for (const pid of pids) {
    const fds = await fs.readdir(`/proc/${pid}/fd`).catch(() => [] as string[]);
    for (const fd of fds) {
      if ((await fs.readlink(`/proc/${pid}/fd/${fd}`).catch(() => '')) === socket) return pid;
    }
  }
  return undefined;
}

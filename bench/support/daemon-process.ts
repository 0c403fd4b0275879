import { ChildProcess, spawn } from 'node:child_process';
import * as http from 'node:http';
import * as net from 'node:net';
import * as path from 'node:path';

/** `node dist/cli.js start …` of this checkout (built by `npm run build`), as a user starts it. */
export const CLI = path.join(__dirname, '..', '..', '..', 'dist', 'cli.js');

export interface DaemonProcess {
  name: string;
  port: number;
  url: string;
  child: ChildProcess;
  exited: Promise<number | null>;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
    server.on('error', reject);
  });
}

/** Starts a daemon with `args` after `start --port`; resolves once `/livez` answers. */
export async function startDaemonProcess(name: string, args: string[], env: NodeJS.ProcessEnv = {}): Promise<DaemonProcess> {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const child = spawn(process.execPath, [CLI, 'start', '--port', String(port), '--log-level', 'error', ...args],
    { stdio: ['ignore', 'ignore', 'inherit'], env: { ...process.env, ...env } });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const daemon = { name, port, url, child, exited };
  await until(async () => (await get(port, '/livez')).status === 200, 30_000, `${name} to answer /livez`);
  return daemon;
}

/** GET on the daemon: status and parsed body (status 0 when it does not answer). */
export function get(port: number, route: string, timeoutMs = 1_000): Promise<{ status: number; body: any }> {
  return new Promise((resolve) => {
    const req = http.get({ host: '127.0.0.1', port, path: route, agent: false }, (res) => {
      let text = '';
      res.on('data', (d) => { text += d; });
      res.on('end', () => {
        let body: unknown;
        try { body = JSON.parse(text); } catch { body = text; }
        resolve({ status: res.statusCode ?? 0, body });
      });
    });
    req.on('error', () => resolve({ status: 0, body: undefined }));
    req.setTimeout(timeoutMs, () => { req.destroy(); resolve({ status: 0, body: undefined }); });
  });
}

/** Polls `probe` every `everyMs` until it holds; throws after `timeoutMs`. */
export async function until(probe: () => Promise<boolean>, timeoutMs: number, what: string, everyMs = 20): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await probe().catch(() => false)) return;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

export async function stopDaemon(d: DaemonProcess, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
  if (d.child.exitCode === null && d.child.signalCode === null) d.child.kill(signal);
  await d.exited;
}

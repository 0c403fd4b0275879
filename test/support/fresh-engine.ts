import { ChildProcess, execFile, spawn } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import Docker from 'dockerode';

const execFileAsync = promisify(execFile);

/**
 * A dockerd started for the first time on a brand-new data root, the way a machine where Docker never
 * ran meets it: its own bridge interface with no address (dockerd picks a free subnet and gives the
 * bridge its first address itself), API on a unix socket and, when asked, on a loopback tcp port.
 */
export interface FreshEngine {
  socket: string;
  /** `unix://…` */
  endpoint: string;
  /** `tcp://127.0.0.1:port` when started with a tcp port. */
  tcpEndpoint?: string;
  bridge: string;
  client(): Docker;
  /** The IPv4 address the bridge interface holds, as `ip` reports it. */
  bridgeAddress(): Promise<string | undefined>;
  stop(): Promise<void>;
}

export async function startFreshEngine(options: { tcpPort?: number } = {}): Promise<FreshEngine> {
  const dir = await mkdtemp('/tmp/ecoware-fresh-engine-');
  // Bridge names are at most 15 characters; the pid keeps concurrent runs apart.
  const bridge = `ecofr${process.pid % 100000}`;
  await execFileAsync('ip', ['link', 'del', bridge]).catch(() => undefined);
  await execFileAsync('ip', ['link', 'add', bridge, 'type', 'bridge']);
  await mkdir(join(dir, 'data'));
  await mkdir(join(dir, 'exec'));
  const socket = join(dir, 'docker.sock');
  const hosts = ['-H', `unix://${socket}`];
  if (options.tcpPort !== undefined) hosts.push('-H', `tcp://127.0.0.1:${options.tcpPort}`);
  const log = openSync(join(dir, 'dockerd.log'), 'a');
  const child: ChildProcess = spawn('dockerd', [
    '--data-root', join(dir, 'data'), '--exec-root', join(dir, 'exec'), '--pidfile', join(dir, 'dockerd.pid'),
    '--bridge', bridge, '--iptables=false', '--shutdown-timeout', '1', ...hosts,
  ], { stdio: ['ignore', log, log] });
  closeSync(log);
  child.on('error', () => undefined);
  const client = () => new Docker({ socketPath: socket } as Docker.DockerOptions);
  const stop = async () => {
    if (child.exitCode === null) {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 15_000))]);
      if (child.exitCode === null) child.kill('SIGKILL');
    }
    await execFileAsync('ip', ['link', 'del', bridge]).catch(() => undefined);
    await rm(dir, { recursive: true, force: true }).catch(() => undefined);
  };
  try {
    const deadline = Date.now() + 30_000;
    for (;;) {
      if (child.exitCode !== null) throw new Error(`dockerd exited with code ${child.exitCode}; see ${dir}/dockerd.log`);
      try {
        await client().ping();
        break;
      } catch {
        if (Date.now() > deadline) throw new Error(`dockerd did not answer on ${socket} within 30 s`);
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    }
  } catch (err) {
    await stop();
    throw err;
  }
  return {
    socket,
    endpoint: `unix://${socket}`,
    tcpEndpoint: options.tcpPort !== undefined ? `tcp://127.0.0.1:${options.tcpPort}` : undefined,
    bridge,
    client,
    async bridgeAddress() {
      const { stdout } = await execFileAsync('ip', ['-4', '-o', 'addr', 'show', 'dev', bridge]);
      return /inet (\d+\.\d+\.\d+\.\d+)\//.exec(stdout)?.[1];
    },
    stop,
  };
}

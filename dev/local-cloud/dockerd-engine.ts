import { ChildProcess, execFile, spawn } from 'node:child_process';
import { closeSync, createReadStream, openSync, readFileSync } from 'node:fs';
import { mkdir, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import Docker from 'dockerode';

const execFileAsync = promisify(execFile);

/**
 * A family of engine slots. Slot N owns the address 127.0.0.N, a bridge named `<prefix>N` with the
 * subnet 10.<subnetOctet>.N.0/24, and the directory `<rootDir>/<prefix>N`. Creating the bridge is
 * the lock: `ip link add` fails when another process holds the slot, so concurrent test runs and
 * local clouds never share an address.
 */
export interface SlotRange {
  prefix: string;
  first: number;
  last: number;
  subnetOctet: number;
  rootDir: string;
}

export interface ClaimOptions {
  range: SlotRange;
  /** Slot to try first; any free slot of the range is taken otherwise. */
  preferredSlot?: number;
  dockerPort?: number;
}

/** Engine client with every connection option explicit, so DOCKER_HOST of the environment never leaks in. */
export function dockerClient(host: string, port: number): Docker {
  return new Docker({
    host, port, protocol: 'http', socketPath: undefined,
    ca: undefined, cert: undefined, key: undefined, timeout: undefined, version: undefined,
  } as Docker.DockerOptions);
}

/**
 * A private dockerd standing in for a machine: its own data and exec roots, its own bridge, its API on
 * tcp://127.0.0.N:port and its published ports on 127.0.0.N. Each engine has its own image store.
 */
export class DockerdEngine {
  private child?: ChildProcess;
  private released = false;

  private constructor(
    readonly slot: number,
    readonly range: SlotRange,
    readonly dockerPort: number,
  ) {}

  get address(): string { return `127.0.0.${this.slot}`; }
  get endpoint(): string { return `tcp://${this.address}:${this.dockerPort}`; }
  get bridge(): string { return `${this.range.prefix}${this.slot}`; }
  get dir(): string { return join(this.range.rootDir, this.bridge); }

  /** Takes a free slot (bridge, directories) without starting the engine. */
  static async claim(options: ClaimOptions): Promise<DockerdEngine> {
    const { range } = options;
    if (range.prefix.length + String(range.last).length > 15) throw new Error(`bridge names of prefix '${range.prefix}' exceed 15 characters`);
    const order: number[] = [];
    if (options.preferredSlot !== undefined) order.push(options.preferredSlot);
    for (let n = range.first; n <= range.last; n++) if (n !== options.preferredSlot) order.push(n);
    for (const slot of order) {
      const engine = new DockerdEngine(slot, range, options.dockerPort ?? 2375);
      if (await engine.tryLock()) return engine;
    }
    throw new Error(`no free engine slot in ${range.prefix}${range.first}..${range.last}`);
  }

  private async tryLock(): Promise<boolean> {
    for (let attempt = 0; attempt < 2; attempt++) {
      try {
        await execFileAsync('ip', ['link', 'add', this.bridge, 'type', 'bridge']);
      } catch (err) {
        // Anything but "File exists" (no permission, no `ip`) fails every slot alike: say so at once.
        if (!/File exists/.test(String((err as { stderr?: string }).stderr ?? err))) throw err;
        if (attempt === 0 && (await this.isStale())) {
          await cleanupSlot(this.range, this.slot);
          continue;
        }
        return false;
      }
      try {
        await execFileAsync('ip', ['addr', 'add', `10.${this.range.subnetOctet}.${this.slot}.1/24`, 'dev', this.bridge]);
        await execFileAsync('ip', ['link', 'set', this.bridge, 'up']);
        await rm(this.dir, { recursive: true, force: true });
        await mkdir(join(this.dir, 'data'), { recursive: true });
        await mkdir(join(this.dir, 'exec'), { recursive: true });
        await writeFile(join(this.dir, 'owner.pid'), String(process.pid));
        return true;
      } catch (err) {
        await execFileAsync('ip', ['link', 'del', this.bridge]).catch(() => undefined);
        throw err;
      }
    }
    return false;
  }

  /** A slot whose owning process is gone (a test run that was killed) may be taken over. */
  private async isStale(): Promise<boolean> {
    const owner = Number(await readFile(join(this.dir, 'owner.pid'), 'utf8').catch(() => ''));
    // Without an owner file the slot may be being set up by another process right now: leave it.
    return owner > 0 && !isAlive(owner);
  }

  /** Spawns dockerd; see waitReady. */
  start(): void {
    if (this.released) throw new Error(`engine slot ${this.bridge} was released`);
    if (this.isRunning) return;
    const log = openSync(join(this.dir, 'dockerd.log'), 'a');
    this.child = spawn('dockerd', [
      '--data-root', join(this.dir, 'data'),
      '--exec-root', join(this.dir, 'exec'),
      '--pidfile', join(this.dir, 'dockerd.pid'),
      '--bridge', this.bridge,
      '--iptables=false',
      '--ip', this.address,
      // Containers of a terminated instance are killed, not given the default 10 s to stop.
      '--shutdown-timeout', '1',
      '-H', `tcp://${this.address}:${this.dockerPort}`,
    ], { stdio: ['ignore', log, log] });
    closeSync(log);
    // The engine outlives nothing: release() stops it, and a killed owner leaves a stale slot that
    // the next claim cleans up. unref keeps an idle local cloud from holding the event loop.
    this.child.unref();
    this.child.on('error', () => undefined);
  }

  client(): Docker {
    return dockerClient(this.address, this.dockerPort);
  }

  async waitReady(timeoutMs = 30_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    const docker = this.client();
    for (;;) {
      if (this.child && this.child.exitCode !== null) {
        throw new Error(`dockerd ${this.bridge} exited with code ${this.child.exitCode}; see ${join(this.dir, 'dockerd.log')}`);
      }
      try {
        await docker.ping();
        return;
      } catch {
        if (Date.now() > deadline) throw new Error(`dockerd ${this.bridge} did not answer on ${this.endpoint} within ${timeoutMs} ms`);
        await delay(100);
      }
    }
  }

  /** Loads a `docker save` archive, as if the images were baked into the machine image. */
  async loadImages(tarPath: string): Promise<void> {
    const docker = this.client();
    const stream = await docker.loadImage(createReadStream(tarPath));
    await new Promise<void>((resolve, reject) => {
      docker.modem.followProgress(stream, (err: Error | null, output: Array<{ error?: string }>) => {
        const failed = output?.find((o) => o.error);
        if (err || failed) reject(err ?? new Error(failed!.error));
        else resolve();
      });
    });
  }

  /**
   * A machine being terminated does not wait for its containers: dockerd would give each its own
   * stop timeout (10 s by default) whatever --shutdown-timeout says, so they are killed first.
   */
  private async killContainers(): Promise<void> {
    const docker = this.client();
    const work = (async () => {
      const running = await docker.listContainers();
      await Promise.all(running.map((c) => docker.getContainer(c.Id).kill().catch(() => undefined)));
    })().catch(() => undefined);
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([work, new Promise<void>((resolve) => { timer = setTimeout(resolve, 5_000); })]);
    clearTimeout(timer);
  }

  get isRunning(): boolean {
    return this.child !== undefined && this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Stops the engine, keeping its directories: start() brings it back with its containers (stopped). */
  async stop(): Promise<void> {
    if (this.isRunning) await this.killContainers();
    if (this.child && this.child.pid !== undefined) await stopProcess(this.child.pid, 15_000);
    this.child = undefined;
  }

  /** Stops the engine (if started) and removes its bridge and directories. Idempotent. */
  async release(): Promise<void> {
    if (this.released) return;
    this.released = true;
    await this.stop();
    await cleanupSlot(this.range, this.slot);
  }
}

/**
 * Removes everything of one slot: its dockerd and the processes it left (containerd, shims: found by
 * the slot directory in their command line, so nothing else is touched), mounts, bridge, directory.
 */
export async function cleanupSlot(range: SlotRange, slot: number): Promise<void> {
  const name = `${range.prefix}${slot}`;
  const dir = join(range.rootDir, name);
  const pid = Number(await readFile(join(dir, 'dockerd.pid'), 'utf8').catch(() => ''));
  if (pid) await stopProcess(pid, 15_000);
  for (const leftover of await processesMentioning(dir)) await stopProcess(leftover, 5_000);
  await unmountUnder(dir);
  await execFileAsync('ip', ['link', 'del', name]).catch(() => undefined);
  await rm(dir, { recursive: true, force: true }).catch(() => undefined);
}

async function stopProcess(pid: number, graceMs: number): Promise<void> {
  if (!isAlive(pid)) return;
  try { process.kill(pid, 'SIGTERM'); } catch { return; }
  const deadline = Date.now() + graceMs;
  while (isAlive(pid) && Date.now() < deadline) await delay(50);
  if (isAlive(pid)) {
    try { process.kill(pid, 'SIGKILL'); } catch { /* already gone */ }
    while (isAlive(pid)) await delay(50);
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  // A zombie still answers signal 0; it is dead for our purposes.
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

async function processesMentioning(dir: string): Promise<number[]> {
  const pids: number[] = [];
  for (const entry of await readdir('/proc').catch(() => [] as string[])) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    const cmdline = await readFile(`/proc/${entry}/cmdline`, 'utf8').catch(() => '');
    if (cmdline.split('\0').some((arg) => arg === dir || arg.startsWith(`${dir}/`))) pids.push(Number(entry));
  }
  return pids;
}

async function unmountUnder(dir: string): Promise<void> {
  const mounts = (await readFile('/proc/mounts', 'utf8').catch(() => ''))
    .split('\n')
    .map((line) => line.split(' ')[1])
    .filter((target): target is string => target !== undefined && (target === dir || target.startsWith(`${dir}/`)))
    // Deepest first, so nested mounts come off before their parents.
    .sort((a, b) => b.length - a.length);
  for (const target of mounts) await execFileAsync('umount', ['-l', target]).catch(() => undefined);
}

export function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

import { ChildProcess, spawn } from 'node:child_process';
import { existsSync, promises as fs, readFileSync } from 'node:fs';
import { connect } from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { LABEL_APP } from '../../src/drivers/docker/labels';
import { engine, freePort, removeContainersByLabel, testDockerEndpoint, testImage } from '../support/docker';

/**
 * The command line as a user runs it: the built CLI as a process of its own, against a daemon that is
 * itself started with `ecoware-executor start`, over real HTTP, on the real engine.
 */
const CLI = path.join(__dirname, '../../dist/cli.js');
const APP = `cli${process.pid}`;
const VERSION = (JSON.parse(readFileSync(path.join(__dirname, '../../package.json'), 'utf8')) as { version: string }).version;

interface Run { code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }

function cli(args: string[], options: { input?: string; env?: NodeJS.ProcessEnv; onSpawn?: (child: ChildProcess) => void } = {}): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], { env: { ...process.env, ECOWARE_URL: '', ...options.env }, stdio: 'pipe' });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => { stdout += d.toString(); });
    child.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
    child.stdin.end(options.input ?? '');
    options.onSpawn?.(child);
  });
}

/** The CLI with its standard output on a terminal (util-linux `script` gives it a pty). */
function cliOnTerminal(args: string[]): Promise<Run> {
  const command = [process.execPath, CLI, ...args].map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(' ');
  return new Promise((resolve, reject) => {
    const child = spawn('script', ['-qefc', command, '/dev/null'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    child.stdout.on('data', (d: Buffer) => { stdout += d.toString(); });
    child.stderr.on('data', (d: Buffer) => { stdout += d.toString(); });
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, stdout: stdout.replace(/\r/g, ''), stderr: '' }));
  });
}

function isListening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => { socket.destroy(); resolve(true); });
    socket.once('error', () => resolve(false));
  });
}

const topology = {
  infrastructure: {
    cloud_driver: { type: 'static', nodes: [{ name: 'node1', docker: testDockerEndpoint().url }] },
    cpu_cores: 2, mem_units: 8, mem_unit_mb: 32,
  },
  apps: [{
    name: APP,
    tiers: {
      web: { docker_image: testImage() },
      // A hook that takes a while, inline: a plan touching `slow` is still running seconds later.
      slow: { docker_image: testImage(), on_node_scale: { exec: '/bin/sleep', argv: ['4'] } },
      broken: { docker_image: testImage(), on_node_scale: { exec: '/bin/false' } },
    },
  }],
};

describe('ecoware-executor without a daemon', () => {
  let scratch: string;
  beforeAll(async () => { scratch = await fs.mkdtemp(path.join(os.tmpdir(), 'ecoware-cli-')); });
  afterAll(async () => { await fs.rm(scratch, { recursive: true, force: true }); });

  it('start --help prints the usage of start and starts nothing', async () => {
    const port = await freePort();
    const stateDir = path.join(scratch, 'help-state');
    const run = await cli(['start', '--help', '--port', String(port), '--state-dir', stateDir]);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('Usage: ecoware-executor start');
    expect(run.stdout).toContain('--state-dir');
    expect(existsSync(stateDir)).toBe(false);
    expect(await isListening(port)).toBe(false);
  });

  it('refuses a mistyped flag with exit code 2 and a hint, and starts nothing', async () => {
    const stateDir = path.join(scratch, 'typo-state');
    const run = await cli(['start', '--prot', '9999', '--state-dir', stateDir]);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain("unknown option '--prot'");
    expect(run.stderr).toContain('--port');
    expect(existsSync(stateDir)).toBe(false);
  });

  it('refuses a start the daemon cannot honour with exit code 2: an open API beyond loopback, an unknown log level', async () => {
    const open = await cli(['start', '--host', '0.0.0.0', '--port', '0', '--state-dir', path.join(scratch, 'open-state')]);
    expect(open.code).toBe(2);
    expect(open.stderr).toContain('refusing to listen on 0.0.0.0 without --tokens-file');
    const level = await cli(['start', '--log-level', 'loud', '--port', '0', '--state-dir', path.join(scratch, 'level-state')]);
    expect(level.code).toBe(2);
    expect(level.stderr).toContain("'loud' is not a log level");
    expect(existsSync(path.join(scratch, 'level-state'))).toBe(false);
  });

  it('refuses unknown commands, missing and extra arguments, and bad numbers with exit code 2', async () => {
    const unknown = await cli(['aply', 'plan.json']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/unknown command 'aply'[\s\S]*apply/);
    expect((await cli(['apply'])).code).toBe(2);
    expect((await cli(['apply', 'a.json', 'b.json'])).code).toBe(2);
    const limit = await cli(['executions', '--limit', 'five']);
    expect(limit.code).toBe(2);
    expect(limit.stderr).toContain('--limit');
    expect((await cli([])).code).toBe(2);
  });

  it('prints its version and its help with exit code 0', async () => {
    const version = await cli(['--version']);
    expect(version).toMatchObject({ code: 0, stdout: `${VERSION}\n` });
    const help = await cli(['--help']);
    expect(help.code).toBe(0);
    for (const command of ['start', 'apply', 'translate', 'topology', 'executions', 'execution', 'cancel', 'solve']) {
      expect(help.stdout).toMatch(new RegExp(`^  ${command} `, 'm'));
    }
  });

  it('names the URL when the daemon cannot be reached, from --url or ECOWARE_URL', async () => {
    const url = `http://127.0.0.1:${await freePort()}`;
    const byFlag = await cli(['allocation', '--url', url]);
    expect(byFlag.code).toBe(1);
    expect(byFlag.stderr).toContain(`cannot reach the ecoware-executor daemon at ${url}`);
    expect(byFlag.stderr).toContain('ecoware-executor start');
    const byEnv = await cli(['executions'], { env: { ECOWARE_URL: url } });
    expect(byEnv.code).toBe(1);
    expect(byEnv.stderr).toContain(url);
  });

  it('refuses a plan file that is not JSON before calling anyone', async () => {
    const file = path.join(scratch, 'bad.json');
    await fs.writeFile(file, '{"web": ');
    const run = await cli(['apply', file, '--url', `http://127.0.0.1:${await freePort()}`]);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain(`${file} is not valid JSON`);
  });
});

describe('ecoware-executor against a daemon it started', () => {
  let scratch: string;
  let daemon: ChildProcess;
  let url: string;
  const planFile = async (name: string, plan: unknown) => {
    const file = path.join(scratch, `${name}.json`);
    await fs.writeFile(file, JSON.stringify(plan));
    return file;
  };
  const api = async (method: string, route: string) => (await fetch(`${url}${route}`, { method })).json() as Promise<any>;

  beforeAll(async () => {
    await removeContainersByLabel(LABEL_APP, APP);
    scratch = await fs.mkdtemp(path.join(os.tmpdir(), 'ecoware-cli-daemon-'));
    const port = await freePort();
    url = `http://127.0.0.1:${port}`;
    daemon = spawn(process.execPath, [CLI, 'start', '--port', String(port), '--state-dir', path.join(scratch, 'state')], {
      env: { ...process.env, DOCKER_HOST: testDockerEndpoint().url }, stdio: ['ignore', 'ignore', 'inherit'],
    });
    for (let i = 0; i < 150 && !(await isListening(port)); i++) await new Promise((r) => setTimeout(r, 100));
    const put = await cli(['topology', await planFile('topology', topology), '--url', url]);
    expect(put.code).toBe(0);
  });

  afterAll(async () => {
    if (daemon && daemon.exitCode === null) {
      const exited = new Promise((resolve) => daemon.once('exit', resolve));
      daemon.kill('SIGTERM');
      await exited;
    }
    await removeContainersByLabel(LABEL_APP, APP);
    await fs.rm(scratch, { recursive: true, force: true });
  });

  it('apply, piped, prints the result as JSON once the execution has finished, exit code 0', async () => {
    const run = await cli(['apply', await planFile('web', { [APP]: { web: { cpu_cores: 1, mem_units: 2 } } }), '--url', url]);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const result = JSON.parse(run.stdout);
    expect(result).toMatchObject({ status: 'succeeded', actions: [[expect.stringContaining(`create container '${APP}_web'`)]] });
    expect(result.allocation.node1.used).toEqual({ [`${APP}_web`]: { cpu_cores: 1, mem_units: 2 } });
    const container = await engine().getContainer(`${APP}_web`).inspect();
    expect(container.HostConfig.Memory).toBe(2 * 32 * 1024 * 1024);
    expect((await api('GET', `/api/executions/${result.execution_id}`)).status).toBe('succeeded');
  });

  it('apply reads the plan from standard input with -', async () => {
    const run = await cli(['apply', '-', '--url', url], { input: JSON.stringify({ [APP]: { web: { cpu_cores: 1, mem_units: 3 } } }) });
    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout).allocation.node1.used[`${APP}_web`]).toEqual({ cpu_cores: 1, mem_units: 3 });
  });

  it('apply at a terminal shows each layer and action as it finishes, with durations', async () => {
    const run = await cliOnTerminal(['apply', await planFile('web2', { [APP]: { web: { cpu_cores: 1, mem_units: 4 } } }), '--url', url]);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^layer 1\/1$/m);
    expect(run.stdout).toMatch(new RegExp(`^  ✓ update container '${APP}_web' .* \\(\\d+(\\.\\d)? m?s\\)$`, 'm'));
    expect(run.stdout).toMatch(/^execution \S+ succeeded in [\d.]+ m?s: 1 action/m);
    expect(run.stdout).not.toContain('"status"');
  });

  it('apply exits 2 and changes nothing when the daemon refuses the plan', async () => {
    const before = await api('GET', '/api/allocation');
    const unknown = await cli(['apply', await planFile('unknown', { [APP]: { cache: { cpu_cores: 1, mem_units: 1 } } }), '--url', url]);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('cache');
    const impossible = await cli(['apply', await planFile('huge', { [APP]: { web: { cpu_cores: 64, mem_units: 2 } } }), '--url', url]);
    expect(impossible.code).toBe(2);
    expect(JSON.parse(impossible.stdout)).toMatchObject({ status: 'failed' });
    expect(await api('GET', '/api/allocation')).toEqual(before);
  });

  it('apply exits 1 when the execution fails', async () => {
    const run = await cli(['apply', await planFile('broken', { [APP]: { broken: { cpu_cores: 1, mem_units: 1 } } }), '--url', url]);
    expect(run.code).toBe(1);
    expect(JSON.parse(run.stdout)).toMatchObject({ status: 'failed' });
    expect(run.stderr).toMatch(/hook|false|exit/i);
    // Back to a clean state for the next tests.
    expect((await cli(['apply', await planFile('unbroken', { [APP]: { broken: { cpu_cores: 0, mem_units: 0 } } }), '--url', url])).code).toBe(0);
  });

  it('Ctrl-C stops following only: the execution carries on, and the message says how to find it', async () => {
    let child: ChildProcess | undefined;
    const running = cli(['apply', await planFile('slow', { [APP]: { slow: { cpu_cores: 1, mem_units: 1 } } }), '--url', url], {
      onSpawn: (c) => { child = c; },
    });
    let id: string | undefined;
    for (let i = 0; i < 100 && !id; i++) {
      const newest = (await api('GET', '/api/executions?limit=1')).objects[0];
      if (newest?.status === 'running' && newest.plan[`${APP}_slow`]) id = newest.id;
      else await new Promise((r) => setTimeout(r, 100));
    }
    expect(id).toBeDefined();
    child!.kill('SIGINT');
    const run = await running;
    expect(run.code).toBe(130);
    expect(run.stderr).toContain(`execution ${id} keeps running`);
    expect(run.stderr).toContain(`ecoware-executor cancel ${id}`);
    // It still finishes, and `execution --follow` picks it up again.
    const followed = await cli(['execution', id!, '--follow', '--url', url]);
    expect(followed.stderr).toBe('');
    expect(followed.code).toBe(0);
    expect(JSON.parse(followed.stdout)).toMatchObject({ execution_id: id, status: 'succeeded' });
  });

  it('events prints the stream, one JSON object a line when piped, until Ctrl-C', async () => {
    let child: ChildProcess | undefined;
    let out = '';
    const running = cli(['events', '--kind', 'execution,action', '--url', url], {
      onSpawn: (c) => { child = c; c.stdout!.on('data', (d: Buffer) => { out += d.toString(); }); },
    });
    // The stream is open once the daemon counts a listener more; a plan's events then follow.
    await new Promise((r) => setTimeout(r, 1500));
    const applied = await cli(['apply', '--detach', await planFile('events', { [APP]: { slow: { cpu_cores: 1, mem_units: 2 } } }), '--url', url]);
    const { execution_id: id } = JSON.parse(applied.stdout);
    for (let i = 0; i < 200 && !out.includes(`"id":"${id}","status":"succeeded"`); i++) await new Promise((r) => setTimeout(r, 100));
    child!.kill('SIGINT');
    const run = await running;
    expect(run.code).toBe(0);
    const events = run.stdout.trim().split('\n').map((l) => JSON.parse(l));
    const mine = events.filter((e) => e.id === id || e.execution_id === id);
    expect(mine.map((e) => (e.type === 'execution' ? e.status : undefined)).filter(Boolean)).toEqual(['queued', 'running', 'succeeded']);
    expect(mine.some((e) => e.type === 'action' && e.status === 'succeeded')).toBe(true);
    expect(events.every((e) => (e.type === 'execution' || e.type === 'action') && typeof e.event_id === 'string')).toBe(true);
    expect((await cli(['execution', id, '--follow', '--url', url])).code).toBe(0);
    expect((await cli(['apply', '--detach', await planFile('events-off', { [APP]: { slow: { cpu_cores: 0, mem_units: 0 } } }), '--url', url])).code).toBe(0);
  });

  it('apply --detach returns at once with the execution id', async () => {
    const run = await cli(['apply', '--detach', await planFile('slow-off', { [APP]: { slow: { cpu_cores: 0, mem_units: 0 } } }), '--url', url]);
    expect(run.code).toBe(0);
    const { execution_id: id } = JSON.parse(run.stdout);
    expect(typeof id).toBe('string');
    const followed = await cli(['execution', id, '--follow', '--url', url]);
    expect(JSON.parse(followed.stdout)).toMatchObject({ execution_id: id, status: 'succeeded' });
  });

  it('follows a plan merged into a newer one to the end of the newer one', async () => {
    const detach = async (name: string, plan: unknown) => JSON.parse((await cli(['apply', '--detach', await planFile(name, plan), '--url', url])).stdout).execution_id as string;
    const slow = await detach('slow-again', { [APP]: { slow: { cpu_cores: 1, mem_units: 1 } } });
    for (let i = 0; i < 100 && (await api('GET', `/api/executions/${slow}`)).status !== 'running'; i++) await new Promise((r) => setTimeout(r, 50));
    const older = await detach('web-a', { [APP]: { web: { cpu_cores: 1, mem_units: 2 } } });
    const newer = await detach('web-b', { [APP]: { web: { cpu_cores: 1, mem_units: 3 } } });
    // Sent with --no-coalesce: it neither absorbs the newer plan nor is absorbed.
    const apartRun = await cli(['apply', '--detach', '--no-coalesce', await planFile('web-c', { [APP]: { web: { cpu_cores: 1, mem_units: 4 } } }), '--url', url]);
    const apart = JSON.parse(apartRun.stdout).execution_id as string;
    const piped = await cli(['execution', older, '--follow', '--url', url]);
    expect(piped.code).toBe(0);
    expect(JSON.parse(piped.stdout)).toMatchObject({ execution_id: newer, status: 'succeeded', actions: [[expect.stringContaining('mem_units=3')]] });
    const apartDone = await cli(['execution', apart, '--follow', '--url', url]);
    expect(JSON.parse(apartDone.stdout)).toMatchObject({ execution_id: apart, status: 'succeeded' });
    expect(JSON.parse(apartDone.stdout).allocation.node1.used[`${APP}_web`]).toEqual({ cpu_cores: 1, mem_units: 4 });
    const shown = await cliOnTerminal(['execution', older, '--follow', '--url', url]);
    expect(shown.code).toBe(0);
    expect(shown.stdout).toContain(`execution ${older} superseded by ${newer}`);
    expect(shown.stdout).toMatch(new RegExp(`^execution ${newer} succeeded`, 'm'));
    expect((await api('GET', `/api/executions/${slow}`)).status).toBe('succeeded');
  });

  it('executions honours --limit and --offset', async () => {
    const all = JSON.parse((await cli(['executions', '--url', url])).stdout).objects;
    expect(all.length).toBeGreaterThan(2);
    const first = JSON.parse((await cli(['executions', '--limit', '1', '--url', url])).stdout).objects;
    expect(first.map((e: { id: string }) => e.id)).toEqual([all[0].id]);
    const second = JSON.parse((await cli(['executions', '--limit', '1', '--offset', '1', '--url', url])).stdout).objects;
    expect(second.map((e: { id: string }) => e.id)).toEqual([all[1].id]);
  });

  it('translate previews without changing anything; a 4xx answer exits 2 with the message', async () => {
    const before = await api('GET', '/api/allocation');
    const run = await cli(['translate', await planFile('preview', { [APP]: { web: { cpu_cores: 1, mem_units: 1 } } }), '--url', url]);
    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout).actions.flat()).toEqual([expect.stringContaining(`update container '${APP}_web'`)]);
    expect(await api('GET', '/api/allocation')).toEqual(before);
    const missing = await cli(['execution', 'no-such-execution', '--url', url]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain("execution 'no-such-execution' not found");
  });
});

import { ChildProcess, spawn } from 'node:child_process';
import { promises as fs } from 'node:fs';
import { createServer, Server } from 'node:http';
import { AddressInfo, connect } from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { LABEL_TASK } from '../../src/drivers/docker/labels';
import { engine, freePort, testDockerEndpoint, testImage } from '../support/docker';

/**
 * Jobs as their users meet them, on a daemon started with `ecoware-executor start` against the
 * real engine: POD's curl examples (an activity installed from a script the daemon fetches over
 * HTTP, executions with their input as $1, their output, terminate), and the command line
 * (`templates put`, `jobs run --wait` exiting with the job's exit code, `jobs ls`, `jobs logs`,
 * `jobs cancel`).
 */
const CLI = path.join(__dirname, '../../dist/cli.js');

interface Run { code: number | null; stdout: string; stderr: string }

function cli(args: string[], input = ''): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], { env: { ...process.env, ECOWARE_URL: '' }, stdio: 'pipe' });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => { stdout += d.toString(); });
    child.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(input);
  });
}

function isListening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => { socket.destroy(); resolve(true); });
    socket.once('error', () => resolve(false));
  });
}

async function until<T>(read: () => Promise<T>, ok: (v: T) => boolean, timeoutMs = 90_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await read();
    if (ok(v)) return v;
    if (Date.now() > end) throw new Error(`not in time; last: ${JSON.stringify(v)}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** An activity's installation script: leaves an executable main.sh that greets its input, and sleeps on `slow`. */
const INSTALL = `#!/bin/sh
set -e
cat > main.sh <<'EOF'
#!/bin/sh
if [ "$1" = slow ]; then sleep 120; fi
echo "hello $1"
echo "warning from $1" >&2
EOF
chmod +x main.sh
`;
const BROKEN_INSTALL = '#!/bin/sh\necho "cannot fetch the sources" >&2\nexit 7\n';

describe('jobs as users meet them: POD and the command line', () => {
  let scratch: string;
  let daemon: ChildProcess;
  let url: string;
  let scripts: Server;
  let scriptsUrl: string;
  const pod = async (query: string) => {
    const res = await fetch(`${url}/POD/?${query}`);
    return { status: res.status, body: await res.json() as any };
  };

  beforeAll(async () => {
    scratch = await fs.mkdtemp(path.join(os.tmpdir(), 'ecoware-jobs-'));
    scripts = createServer((req, res) => {
      const body = req.url?.startsWith('/install.sh') ? INSTALL : req.url?.startsWith('/broken.sh') ? BROKEN_INSTALL : undefined;
      if (!body) { res.writeHead(404).end(); return; }
      res.writeHead(200, { 'content-type': 'text/x-sh' }).end(body);
    });
    await new Promise<void>((resolve) => scripts.listen(0, '127.0.0.1', resolve));
    scriptsUrl = `http://127.0.0.1:${(scripts.address() as AddressInfo).port}`;
    const port = await freePort();
    url = `http://127.0.0.1:${port}`;
    daemon = spawn(process.execPath, [CLI, 'start', '--port', String(port), '--state-dir', path.join(scratch, 'state')], {
      env: { ...process.env, DOCKER_HOST: testDockerEndpoint().url }, stdio: ['ignore', 'ignore', 'inherit'],
    });
    for (let i = 0; i < 300 && !(await isListening(port)); i++) await new Promise((r) => setTimeout(r, 100));
    const topology = {
      infrastructure: {
        cloud_driver: { type: 'static', nodes: [{ name: 'node1', docker: testDockerEndpoint().url }] },
        cpu_cores: 2, mem_units: 8, mem_unit_mb: 32, job_base_image: testImage(),
      },
      apps: [],
    };
    const file = path.join(scratch, 'topology.json');
    await fs.writeFile(file, JSON.stringify(topology));
    const put = await cli(['topology', file, '--url', url]);
    expect(put.stderr).toBe('');
    expect(put.code).toBe(0);
  });

  afterAll(async () => {
    if (daemon && daemon.exitCode === null) {
      const exited = new Promise((resolve) => daemon.once('exit', resolve));
      daemon.kill('SIGTERM');
      await exited;
    }
    const tasks = await engine().listContainers({ all: true, filters: { label: [LABEL_TASK] } });
    await Promise.all(tasks.map((t) => engine().getContainer(t.Id).remove({ force: true }).catch(() => undefined)));
    await new Promise((resolve) => scripts.close(resolve));
    await fs.rm(scratch, { recursive: true, force: true });
  });

  it("POD's examples: an activity installed from a fetched script, an execution with its output, kept after it is read", async () => {
    // POD's own example leaves the script URL's query unencoded.
    const created = await pod(`action=newActivity&installationScriptLocation=${scriptsUrl}/install.sh?dl=1&name=greet`);
    expect(created).toEqual({ status: 200, body: { name: 'greet', status: 'verifying' } });
    const approved = await until(() => pod('action=getActivityStatus&name=greet'), (r) => r.body.status !== 'verifying');
    expect(approved.body).toEqual({ name: 'greet', status: 'approved', workers: ['node1'] });

    const started = await pod('action=newExecution&name=greet&input=world');
    expect(started.status).toBe(200);
    const id = started.body.executionId as string;
    expect(typeof id).toBe('string');
    const finished = await until(() => pod(`action=getExecutionStatus&executionId=${id}`), (r) => !['queued', 'running'].includes(r.body.status));
    expect(finished.body).toMatchObject({ executionId: id, activity: 'greet', status: 'finished', exitCode: 0, stdout: 'hello world\n', stderr: 'warning from world\n', worker: 'node1' });
    // Reading a finished execution does not delete it.
    expect((await pod(`action=getExecutionStatus&executionId=${id}`)).body).toMatchObject({ status: 'finished', stdout: 'hello world\n' });
  });

  it('terminateExecution stops a running execution: its container is gone and it says terminated', async () => {
    const id = (await pod('action=newExecution&name=greet&input=slow')).body.executionId as string;
    await until(() => pod(`action=getExecutionStatus&executionId=${id}`), (r) => r.body.status === 'running');
    const terminated = await pod(`action=terminateExecution&executionId=${id}`);
    expect(terminated).toEqual({ status: 200, body: { executionId: id, status: 'terminated' } });
    const tasks = await until(
      () => engine().listContainers({ all: true, filters: { label: [LABEL_TASK] } }),
      (list) => !list.some((c) => (c.Names ?? []).some((n) => n.includes(id))),
    );
    expect(tasks.some((c) => (c.Names ?? []).some((n) => n.includes(id)))).toBe(false);
  });

  it('an activity whose script fails is rejected with the reason; bad requests name what is wrong; a deleted activity is gone', async () => {
    await pod(`action=newActivity&installationScriptLocation=${scriptsUrl}/broken.sh&name=broken`);
    const rejected = await until(() => pod('action=getActivityStatus&name=broken'), (r) => r.body.status !== 'verifying');
    expect(rejected.body.status).toBe('rejected');
    expect(rejected.body.reason).toContain('cannot fetch the sources');

    const noName = await pod(`action=newActivity&installationScriptLocation=${scriptsUrl}/install.sh`);
    expect(noName.status).toBe(400);
    expect(noName.body.error).toContain('name');
    const unknown = await pod('action=newExecution&name=nothing');
    expect(unknown).toEqual({ status: 404, body: { error: "no activity named 'nothing'" } });
    expect((await pod('action=getExecutionStatus&executionId=zzz')).status).toBe(404);

    expect((await pod('action=deleteActivity&name=broken')).body).toEqual({ name: 'broken', status: 'deleted' });
    expect((await pod('action=getActivityStatus&name=broken')).status).toBe(404);
  });

  it('the command line: templates put, jobs run --wait exits with the job\'s exit code and shows its output, ls, logs, cancel', async () => {
    const template = path.join(scratch, 'echo.json');
    await fs.writeFile(template, JSON.stringify({
      image: testImage(), command: ['sh', '-c', 'echo "out-$1"; echo "err-$1" >&2; [ "$1" = slow ] && sleep 120; exit 3', 'sh'], input: { mode: 'arg' },
    }));
    const put = await cli(['templates', 'put', 'echo', template, '--url', url]);
    expect(put.code).toBe(0);
    await until(async () => (await cli(['templates', 'ls', '--json', '--url', url])).stdout, (out) => out.includes('"ready"'));

    const run = await cli(['jobs', 'run', 'echo', '--input', 'hi', '--wait', '--url', url]);
    expect(run.stdout).toBe('out-hi\n');
    expect(run.stderr).toContain('err-hi');
    expect(run.stderr).toMatch(/failed: exit code 3/);
    expect(run.code).toBe(3);

    const listed = await cli(['jobs', 'ls', '--template', 'echo', '--url', url]);
    expect(listed.code).toBe(0);
    expect(listed.stdout).toMatch(/^ID\s+TEMPLATE\s+STATUS/);
    const id = listed.stdout.split('\n')[1].split(/\s+/)[0];
    expect(listed.stdout.split('\n')[1]).toMatch(/echo\s+failed\s+1\s+node1/);
    const logs = await cli(['jobs', 'logs', id, '--url', url]);
    expect(logs).toMatchObject({ code: 0, stdout: 'out-hi\n' });
    expect(logs.stderr).toBe('err-hi\n');

    const slow = await cli(['jobs', 'run', 'echo', '--input', 'slow', '--json', '--url', url]);
    const slowId = JSON.parse(slow.stdout).id as string;
    await until(async () => JSON.parse((await cli(['jobs', 'show', slowId, '--url', url])).stdout).status, (s) => s === 'running');
    const cancelled = await cli(['jobs', 'cancel', slowId, '--url', url]);
    expect(cancelled.code).toBe(0);
    expect(cancelled.stdout).toContain('cancelled');
    const again = await cli(['jobs', 'cancel', slowId, '--url', url]);
    expect(again.code).toBe(2);
    expect(again.stderr).toContain('already cancelled');

    const unknown = await cli(['jobs', 'run', 'nope', '--url', url]);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('nope');
    expect((await cli(['templates', 'rm', 'echo', '--url', url])).code).toBe(0);
    expect((await cli(['templates', 'show', 'echo', '--url', url])).code).toBe(2);
  });
});

import { rmSync } from 'node:fs';
import * as path from 'node:path';
import Docker from 'dockerode';
import { Placement } from '../../src/domain/allocation';
import { NotFoundError, UnsatisfiableError } from '../../src/domain/errors';
import { parseProcessDefinition } from '../../src/schema/process-definition';
import { HookEvent, HookSpec, Tier } from '../../src/domain/topology';
import { parseTopology } from '../../src/schema/topology-file';
import { createDockerRuntime } from '../../src/drivers/docker/docker-container-runtime';
import { FileProcessDefinitionStore } from '../support/json-layout/file-process-definition-store';
import { GitHookSource } from '../../src/drivers/git-hooks/git-hook-source';
import { ContainerHookRunner } from '../../src/executor/container-hook-runner';
import { ContainerRuntime } from '../../src/ports/container-runtime';
import { HookInvocation, isHookSuccess } from '../../src/ports/hook-runner';
import { engine as dockerClient, testDockerEndpoint, dockerExec, readInContainer, removeTestContainers, startTestContainer } from '../support/docker';
import { exampleHookFiles, GitFixture, makeTempDir } from '../support/git-fixture';
import { waitFor } from '../support/wait-for';

/** The repository's own example hooks, plus a few that misbehave on purpose. */
function testHookFiles(): Record<string, string> {
  return {
    ...exampleHookFiles(),
    'scale_hooks/exit3.sh': '#!/bin/sh\necho out\necho err >&2\nexit 3\n',
    'scale_hooks/sleeper.sh': '#!/bin/sh\necho started\nexec sleep 4242\n',
    'scale_hooks/no_shebang.sh': 'echo "plain sh for $ECOWARE_TIER"\n',
    'scale_hooks/chatty.sh': '#!/bin/sh\ni=0\nwhile [ $i -lt 2000 ]; do echo "line $i of a hook that talks too much"; i=$((i+1)); done\n',
  };
}

const topology = parseTopology({
  infrastructure: { cpu_cores: 2, mem_units: 8, hooks_git_repo: 'file:///unused' },
  apps: [{
    name: 'rubis',
    tiers: {
      loadbalancer: { docker_image: 'busybox', max_node: 1, depends_on: ['app_server'], on_dependency_scale: 'reload_server_pool.sh' },
      app_server: { docker_image: 'busybox', on_node_scale: 'record_hook.sh' },
    },
  }],
});
const appServer = topology.tiers.get('rubis_app_server')!;
const loadBalancer = topology.tiers.get('rubis_loadbalancer')!;

const oldAllocation: Placement = {
  vm1: { rubis_loadbalancer: { cpu_cores: 1, mem_units: 1 }, rubis_app_server: { cpu_cores: 1, mem_units: 2 } },
};
const newAllocation: Placement = {
  vm1: { rubis_loadbalancer: { cpu_cores: 1, mem_units: 1 }, rubis_app_server: { cpu_cores: 1, mem_units: 3 } },
  new_vm0: { rubis_app_server: { cpu_cores: 2, mem_units: 3 } },
};

describe('ContainerHookRunner in a real container', () => {
  const docker: Docker = dockerClient();
  let root: string;
  let containerId: string;
  let runner: ContainerHookRunner;
  let runtime: ContainerRuntime;
  let store: FileProcessDefinitionStore;
  let source: GitHookSource;

  const invocation = (spec: HookSpec, fields: Partial<HookInvocation> = {}): HookInvocation => ({
    event: 'on_node_scale' as HookEvent,
    spec,
    tier: appServer as Tier,
    vm: 'new_vm0',
    containerId,
    resources: { cpu_cores: 2, mem_units: 3 },
    oldAllocation,
    newAllocation,
    timeoutMs: 30_000,
    ...fields,
    runtime: fields.runtime ?? runtime,
  });
  const script = (name: string): HookSpec => ({ kind: 'script', name });
  const inline = (definition: unknown): HookSpec => ({ kind: 'process', definition: parseProcessDefinition(definition, 'hook') });
  const sleeperRuns = async () => (await dockerExec(docker, containerId, ['ps', '-o', 'args'])).stdout.includes('sleep 4242');

  beforeAll(async () => {
    root = makeTempDir('ecoware-hook-runner-');
    const repo = new GitFixture(root);
    repo.commit(testHookFiles());
    source = new GitHookSource(path.join(root, 'state', 'hooks'));
    await source.sync(repo.url);
    store = new FileProcessDefinitionStore(path.join(root, 'state'));
    containerId = await startTestContainer(docker, 'runner');
    runtime = createDockerRuntime(testDockerEndpoint());
    runner = new ContainerHookRunner({ source, definitions: store, maxOutputBytes: 4096 });
  });

  afterAll(async () => {
    await removeTestContainers(docker);
    rmSync(root, { recursive: true, force: true });
  });

  it('copies the on_node_scale script in and hands it the payload on stdin and the ECOWARE_* variables', async () => {
    const result = await runner.run(invocation(script('record_hook.sh')));

    expect(result).toMatchObject({ event: 'on_node_scale', hook: 'record_hook.sh', exitCode: 0, timedOut: false, cancelled: false });
    expect(result.stdout).toBe('recorded on_node_scale for rubis_app_server on new_vm0\n');
    expect(isHookSuccess(result)).toBe(true);

    const payload = JSON.parse(await readInContainer(docker, containerId, '/tmp/ecoware-hook-log/on_node_scale.json'));
    expect(payload).toEqual({
      tier: 'rubis_app_server', app: 'rubis', vm: 'new_vm0', event: 'on_node_scale', cpu_cores: 2, mem_units: 3,
      old_allocation: oldAllocation, new_allocation: newAllocation,
    });
    const env = (await readInContainer(docker, containerId, '/tmp/ecoware-hook-log/on_node_scale.env')).split('\n');
    expect(env).toEqual(expect.arrayContaining([
      'ECOWARE_APP=rubis', 'ECOWARE_TIER=rubis_app_server', 'ECOWARE_VM=new_vm0',
      'ECOWARE_CPU_CORES=2', 'ECOWARE_MEM_UNITS=3', 'ECOWARE_EVENT=on_node_scale',
    ]));
    // Copied, not mounted: the file is in the container's own filesystem, executable.
    const listing = await dockerExec(docker, containerId, ['ls', '-l', '/tmp/ecoware-hooks/scale_hooks/record_hook.sh']);
    expect(listing.stdout).toMatch(/^-rwxr-xr-x/);
    expect((await docker.getContainer(containerId).inspect()).Mounts).toEqual([]);
  });

  it('runs on_dependency_scale from tier_hooks: the load balancer example rebuilds its pool from new_allocation', async () => {
    const result = await runner.run(invocation(script('reload_server_pool.sh'), {
      event: 'on_dependency_scale', tier: loadBalancer, vm: 'vm1', resources: { cpu_cores: 1, mem_units: 1 },
    }));

    expect(result.exitCode).toBe(0);
    expect(result.stdout).toContain('pool of rubis_app_server: 2 server(s)');
    const pool = await readInContainer(docker, containerId, '/etc/ecoware/upstream.conf');
    expect(pool).toContain('upstream rubis_app_server {');
    expect(pool).toContain('server vm1:8080;');
    expect(pool).toContain('server new_vm0:8080;');
    await expect(runner.run(invocation(script('reload_server_pool.sh')))).rejects.toThrow(NotFoundError);
  });

  it('records exit code, stdout and stderr of a failing hook', async () => {
    const result = await runner.run(invocation(script('exit3.sh')));
    expect(result).toMatchObject({ exitCode: 3, stdout: 'out\n', stderr: 'err\n', timedOut: false, cancelled: false });
    expect(isHookSuccess(result)).toBe(false);
  });

  it('runs a script without #! line through sh', async () => {
    const result = await runner.run(invocation(script('no_shebang.sh')));
    expect(result).toMatchObject({ exitCode: 0, stdout: 'plain sh for rubis_app_server\n' });
  });

  it('bounds the output it keeps', async () => {
    const result = await runner.run(invocation(script('chatty.sh')));
    expect(result.exitCode).toBe(0);
    expect(result.truncated).toBe(true);
    expect(Buffer.byteLength(result.stdout)).toBe(4096);
    expect(result.stdout.startsWith('line 0 of a hook')).toBe(true);
  });

  it('kills a hook that outlives its timeout', async () => {
    const result = await runner.run(invocation(script('sleeper.sh'), { timeoutMs: 1_500 }));
    expect(result).toMatchObject({ timedOut: true, cancelled: false, exitCode: null, stdout: 'started\n' });
    expect(isHookSuccess(result)).toBe(false);
    expect(await sleeperRuns()).toBe(false);
  });

  it('terminates a running hook when its AbortSignal fires, and does not start one already cancelled', async () => {
    const controller = new AbortController();
    const running = runner.run(invocation(script('sleeper.sh'), { signal: controller.signal }));
    expect(await waitFor(sleeperRuns, (running) => running, 15_000)).toBe(true);
    controller.abort();
    const result = await running;
    expect(result).toMatchObject({ cancelled: true, timedOut: false, exitCode: null });
    expect(await sleeperRuns()).toBe(false);

    const before = await dockerExec(docker, containerId, ['sh', '-c', 'cat /tmp/ecoware-hook-log/history.log | wc -l']);
    const aborted = new AbortController();
    aborted.abort();
    const skipped = await runner.run(invocation(script('record_hook.sh'), { signal: aborted.signal }));
    expect(skipped).toMatchObject({ cancelled: true, exitCode: null });
    const after = await dockerExec(docker, containerId, ['sh', '-c', 'cat /tmp/ecoware-hook-log/history.log | wc -l']);
    expect(after.stdout).toBe(before.stdout);
  });

  it('runs an inline process definition with the payload on STDIN and STDOUT as its output', async () => {
    const result = await runner.run(invocation(inline({
      exec: '/bin/sh',
      argv: ['-c', 'cat; echo; env | grep -E "^(ECOWARE_[A-Z_]+|MODE)=" | grep -v EXEC_ID | sort'],
      environment: { MODE: 'fast', ECOWARE_TIER: 'forged' },
      input_adapter: { input_type: 'file', input_parameters: { file_type: 'stream', stream_name: 'STDIN' } },
      output_adapter: { output_type: 'file', output_parameters: { file_type: 'stream', stream_name: 'STDOUT' } },
    })));
    expect(result).toMatchObject({ hook: '/bin/sh', exitCode: 0 });
    const [json, ...env] = result.output!.trim().split('\n');
    expect(JSON.parse(json)).toMatchObject({ tier: 'rubis_app_server', vm: 'new_vm0', new_allocation: newAllocation });
    expect(env).toEqual([
      'ECOWARE_APP=rubis', 'ECOWARE_CPU_CORES=2', 'ECOWARE_EVENT=on_node_scale', 'ECOWARE_MEM_UNITS=3',
      'ECOWARE_TIER=rubis_app_server', 'ECOWARE_VM=new_vm0', 'MODE=fast',
    ]);
  });

  it('runs a registered definition with ${input_file} and ${output_file}, reads the output file back and cleans up', async () => {
    const id = await store.create(parseProcessDefinition({
      exec: '/bin/sh',
      argv: ['-c', 'cp "$1" /tmp/pd-seen.json && wc -c < "$1" | tr -d " " > "$2"; echo "in=$1"', 'hook', '${input_file}', '${output_file}'],
      input_adapter: { input_type: 'file', input_parameters: { file_path: '${input_file}' } },
      output_adapter: { output_type: 'file', output_parameters: { file_path: '${output_file}' } },
    }, 'definition'));

    const result = await runner.run(invocation({ kind: 'process-ref', id }));

    expect(result).toMatchObject({ hook: `process:${id}`, exitCode: 0 });
    const seen = await readInContainer(docker, containerId, '/tmp/pd-seen.json');
    expect(JSON.parse(seen)).toMatchObject({ tier: 'rubis_app_server', event: 'on_node_scale' });
    expect(result.output).toBe(`${Buffer.byteLength(seen)}\n`);
    expect(result.stdout).toMatch(/^in=\/tmp\/ecoware-hooks\/run-[0-9a-f]+\/input\.json\n$/);
    const scratch = await dockerExec(docker, containerId, ['ls', '/tmp/ecoware-hooks']);
    expect(scratch.stdout).not.toMatch(/run-/);
  });

  it('honours cwd, an absolute output path, and the definition timeout over the tier one', async () => {
    const pwd = await runner.run(invocation(inline({
      exec: '/bin/sh', argv: ['-c', 'pwd > /tmp/pd-out.txt'], cwd: '/etc',
      output_adapter: { output_type: 'file', output_parameters: { file_path: '/tmp/pd-out.txt' } },
    })));
    expect(pwd).toMatchObject({ exitCode: 0, output: '/etc\n' });

    const slow = await runner.run(invocation(inline({ exec: 'sleep', argv: ['4242'], timeout: 1 }), { timeoutMs: 60_000 }));
    expect(slow).toMatchObject({ timedOut: true, exitCode: null });
    expect(await sleeperRuns()).toBe(false);
  });

  it('rejects what is not a hook outcome: an unknown definition id, a script with no hooks repository', async () => {
    await expect(runner.run(invocation({ kind: 'process-ref', id: '999' }))).rejects.toThrow(NotFoundError);
    const withoutSource = new ContainerHookRunner({ definitions: store });
    await expect(withoutSource.run(invocation(script('record_hook.sh')))).rejects.toThrow(UnsatisfiableError);
  });
});


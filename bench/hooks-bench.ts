import { rmSync } from 'node:fs';
import * as path from 'node:path';
import { parseProcessDefinition } from '../src/schema/process-definition';
import { HookSpec } from '../src/domain/topology';
import { parseTopology } from '../src/schema/topology-file';
import { createDockerRuntime } from '../src/drivers/docker/docker-container-runtime';
import { FileProcessDefinitionStore } from '../test/support/json-layout/file-process-definition-store';
import { GitHookSource } from '../src/drivers/git-hooks/git-hook-source';
import { ContainerHookRunner } from '../src/executor/container-hook-runner';
import { HookInvocation, isHookSuccess } from '../src/ports/hook-runner';
import { engine as dockerClient, removeTestContainers, startTestContainer, testDockerEndpoint } from '../test/support/docker';
import { GitFixture, makeTempDir } from '../test/support/git-fixture';
import { elapsedMs, percentile, sum } from './support/stats';

export interface HookBenchOptions {
  /** Timed runs per operation, after one warm-up run. */
  runs: number;
  log: (line: string) => void;
}

/**
 * Hook overhead per run: copy + exec of a trivial hook in a real busybox container on the engine at
 * DOCKER_HOST, beside the engine calls and the git read it is made of. Returns a markdown table.
 */
export async function runHookBench(options: HookBenchOptions): Promise<string> {
  const docker = dockerClient();
  const root = makeTempDir('ecoware-hook-bench-');
  try {
    const repo = new GitFixture(root);
    repo.commit({ 'scale_hooks/noop.sh': '#!/bin/sh\nexit 0\n' });
    const source = new GitHookSource(path.join(root, 'state', 'hooks'));
    await source.sync(repo.url);
    const containerId = await startTestContainer(docker, 'bench');
    const runtime = createDockerRuntime(testDockerEndpoint());
    const runner = new ContainerHookRunner({ source, definitions: new FileProcessDefinitionStore(path.join(root, 'state')) });
    const tier = parseTopology({ infrastructure: { cpu_cores: 2, mem_units: 8 }, apps: [{ name: 'b', tiers: { t: { docker_image: 'x' } } }] }).tiers.get('b_t')!;
    const invocation = (spec: HookSpec): HookInvocation => ({
      event: 'on_node_scale', spec, tier, vm: 'vm1', runtime, containerId, resources: { cpu_cores: 1, mem_units: 1 },
      oldAllocation: {}, newAllocation: { vm1: { b_t: { cpu_cores: 1, mem_units: 1 } } }, timeoutMs: 30_000,
    });
    const hook = async (spec: HookSpec) => {
      if (!isHookSuccess(await runner.run(invocation(spec)))) throw new Error('hook failed');
    };

    const cases: [string, () => Promise<unknown>][] = [
      ['engine exec of `true` (baseline)', () => runtime.exec(containerId, { argv: ['true'], timeoutMs: 30_000 })],
      ['engine putFile of a 20-byte script', () => runtime.putFile(containerId, '/tmp/bench/noop.sh', '#!/bin/sh\nexit 0\n', 0o755)],
      ['git read of the script (cat-file)', () => source.read('scale_hooks', 'noop.sh')],
      ['script hook: read + copy + exec', () => hook({ kind: 'script', name: 'noop.sh' })],
      ['process definition, payload on stdin', () => hook({ kind: 'process', definition: parseProcessDefinition({ exec: 'true' }, 'd') })],
      ['process definition, input + output files', () => hook({
        kind: 'process',
        definition: parseProcessDefinition({
          exec: 'cp', argv: ['${input_file}', '${output_file}'],
          input_adapter: { input_type: 'file', file_path: '${input_file}' },
          output_adapter: { output_type: 'file', file_path: '${output_file}' },
        }, 'd'),
      })],
    ];

    const rows: string[] = ['| operation | runs | mean ms | p50 ms | p95 ms |', '|---|---|---|---|---|'];
    for (const [name, run] of cases) {
      options.log(`hooks: ${name}`);
      await run(); // warm-up
      const times: number[] = [];
      for (let i = 0; i < options.runs; i++) {
        const t0 = process.hrtime.bigint();
        await run();
        times.push(elapsedMs(t0));
      }
      const mean = sum(times) / times.length;
      rows.push(`| ${name} | ${options.runs} | ${mean.toFixed(1)} | ${percentile(times, 50).toFixed(1)} | ${percentile(times, 95).toFixed(1)} |`);
    }
    return rows.join('\n');
  } finally {
    await removeTestContainers(docker);
    rmSync(root, { recursive: true, force: true });
  }
}

import { FakeContainerRuntime } from '../../src/drivers/fake/fake-container-runtime';
import { FakeTaskOutcome } from '../../src/drivers/fake/fake-tasks';
import { FakeBuildOutcome } from '../../src/drivers/fake/fake-images';
import { ImageBuildSpec, TaskSpec } from '../../src/ports/container-runtime';
import { CONTRACT_SCRIPTS, jobsRuntimeContract } from '../support/jobs-runtime-contract';

/**
 * What busybox does with each script of the suite, told to the fake; the fake's part is the rest:
 * stdin and files reaching the behaviour, streams, timing, stop, wait, follow, files read back.
 */
function busyboxLike(spec: TaskSpec): FakeTaskOutcome {
  const is = (script: readonly string[]) => JSON.stringify(spec.argv) === JSON.stringify(script);
  if (is(CONTRACT_SCRIPTS.stdinEcho)) return { stdout: spec.stdin ?? '' };
  if (is(CONTRACT_SCRIPTS.fileInOut)) {
    const input = spec.files?.find((f) => f.path === '/ecoware/input')?.content;
    return input ? { outputFile: input.toString().toUpperCase() } : { exitCode: 1, stderr: 'sh: cannot open /ecoware/input\n' };
  }
  if (is(CONTRACT_SCRIPTS.twoStreams)) return { stdout: 'out\n', stderr: 'err\n', exitCode: 3 };
  if (is(CONTRACT_SCRIPTS.slowOutput)) return { stdout: 'first\n', later: [{ atMs: 2_000, stream: 'stdout', data: 'second\n' }], durationMs: 2_000 };
  if (is(CONTRACT_SCRIPTS.trapsTerm)) return { stdout: 'ready\n', durationMs: 300_000, termStdout: 'stopping\n', termExitCode: 7 };
  if (is(CONTRACT_SCRIPTS.overMemory)) return spec.memoryMb < 200 ? { oomKilled: true, durationMs: 100 } : {};
  if (is(CONTRACT_SCRIPTS.idle)) return { durationMs: 300_000, onTerm: 'ignore' };
  if (spec.argv[0] === './main.sh') return { stdout: `main got ${spec.argv[1] ?? ''}\n` };
  return { exitCode: 127, stderr: `${spec.argv[0]}: not found\n` };
}

function busyboxBuild(spec: ImageBuildSpec): FakeBuildOutcome {
  if (spec.script === CONTRACT_SCRIPTS.install) return { output: 'installed\n' };
  if (spec.script === CONTRACT_SCRIPTS.failingInstall) return { exitCode: 3, output: 'cannot fetch the activity\n' };
  if (spec.script === CONTRACT_SCRIPTS.notExecutable) return { checkExitCode: 1 };
  if (spec.script === CONTRACT_SCRIPTS.slowInstall) return { durationMs: 60_000 };
  return { exitCode: 127, output: 'unknown script\n' };
}

const runtime = new FakeContainerRuntime({ kind: 'docker', url: 'fake://jobs-contract' });
runtime.tasks.behaviour = busyboxLike;
runtime.images.buildBehaviour = busyboxBuild;

jobsRuntimeContract('FakeContainerRuntime', () => ({
  runtime,
  // The fake's state is the engine's: a new client of it is the same object.
  reconnect: () => runtime,
  image: 'busybox',
  labels: {},
  async cleanup() {
    for (const task of await runtime.tasks.list()) await runtime.tasks.remove(task.id);
    for (const ref of [...runtime.images.refs.keys()]) await runtime.images.remove(ref);
  },
}));

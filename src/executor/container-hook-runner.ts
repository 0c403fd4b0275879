import { posix } from 'node:path';
import { randomBytes } from 'node:crypto';
import { NotFoundError, UnsatisfiableError } from '../domain/errors';
import { expandPlaceholders, ProcessDefinition } from '../domain/process-definition';
import { HookSpec } from '../domain/topology';
import { ExecResult, RuntimeExecAndFiles } from '../ports/container-runtime';
import { HookInvocation, HookResult, HookRunner } from '../ports/hook-runner';
import { HOOK_FOLDER, HookSource } from '../ports/hook-source';
import { ProcessDefinitionStore } from '../ports/process-definition-store';

export interface ContainerHookRunnerOptions {
  source?: HookSource;
  definitions: ProcessDefinitionStore;
  /** Largest stdout, stderr and output file kept per hook, each. */
  maxOutputBytes?: number;
  /** Where hook files go inside the container. */
  containerDir?: string;
}

export const DEFAULT_HOOK_OUTPUT_BYTES = 64 * 1024;
export const DEFAULT_CONTAINER_HOOK_DIR = '/tmp/ecoware-hooks';
/** Removing a process definition's scratch files is housekeeping; it must not hold up the execution. */
const CLEANUP_TIMEOUT_MS = 5_000;

/** What a hook receives on standard input (or in its input file). */
export interface HookPayload {
  tier: string;
  app: string;
  vm: string;
  event: string;
  cpu_cores: number;
  mem_units: number;
  old_allocation: unknown;
  new_allocation: unknown;
}

/**
 * Runs hooks inside the tier's container: the script (from the hooks repository) or the process
 * definition's files are copied in through the engine's archive API, never bind-mounted from the
 * host, and the program is started with `exec`. A hook that exits non-zero, times out or is
 * cancelled resolves with that result; only failures to reach the engine, read the hook or find
 * a definition reject.
 */
export class ContainerHookRunner implements HookRunner {
  private readonly maxOutputBytes: number;
  private readonly containerDir: string;

  constructor(private readonly options: ContainerHookRunnerOptions) {
    this.maxOutputBytes = options.maxOutputBytes ?? DEFAULT_HOOK_OUTPUT_BYTES;
    this.containerDir = options.containerDir ?? DEFAULT_CONTAINER_HOOK_DIR;
  }

  async run(invocation: HookInvocation): Promise<HookResult> {
    const startedAt = Date.now();
    const hook = hookLabel(invocation.spec);
    const finish = (exec: Partial<ExecResult>, output?: { text: string; truncated: boolean }): HookResult => ({
      event: invocation.event,
      hook,
      exitCode: exec.exitCode ?? null,
      stdout: exec.stdout ?? '',
      stderr: exec.stderr ?? '',
      ...(output === undefined ? {} : { output: output.text }),
      timedOut: exec.timedOut ?? false,
      cancelled: exec.cancelled ?? false,
      truncated: (exec.truncated ?? false) || (output?.truncated ?? false),
      durationMs: Date.now() - startedAt,
    });
    if (invocation.signal?.aborted) return finish({ cancelled: true });

    const { runtime } = invocation;
    const payload = JSON.stringify(hookPayload(invocation));
    const env = hookEnvironment(invocation);
    const spec = invocation.spec;

    if (spec.kind === 'script') {
      const folder = HOOK_FOLDER[invocation.event];
      if (!this.options.source) {
        throw new UnsatisfiableError(`hook script '${spec.name}' of '${invocation.tier.flatName}' needs infrastructure.hooks_git_repo`);
      }
      const script = await this.options.source.read(folder, spec.name);
      const path = posix.join(this.containerDir, folder, spec.name);
      await runtime.putFile(invocation.containerId, path, script, 0o755);
      if (invocation.signal?.aborted) return finish({ cancelled: true });
      // Without a `#!` line the kernel refuses to exec the file; the hook was meant for a shell.
      const argv = hasShebang(script) ? [path] : ['/bin/sh', path];
      return finish(await runtime.exec(invocation.containerId, {
        argv, env, stdin: payload, timeoutMs: invocation.timeoutMs, maxOutputBytes: this.maxOutputBytes, signal: invocation.signal,
      }));
    }

    const definition = spec.kind === 'process' ? spec.definition : await this.lookUp(spec.id);
    return this.runDefinition(runtime, invocation, definition, payload, env, finish);
  }

  private async lookUp(id: string): Promise<ProcessDefinition> {
    const definition = await this.options.definitions.get(id);
    if (!definition) throw new NotFoundError(`process definition '${id}' is not registered`);
    return definition;
  }

  private async runDefinition(
    runtime: RuntimeExecAndFiles,
    invocation: HookInvocation,
    definition: ProcessDefinition,
    payload: string,
    ecowareEnv: Record<string, string>,
    finish: (exec: Partial<ExecResult>, output?: { text: string; truncated: boolean }) => HookResult,
  ): Promise<HookResult> {
    const id = invocation.containerId;
    const scratchDir = posix.join(this.containerDir, `run-${randomBytes(6).toString('hex')}`);
    const usesScratch = (definition.inputAdapter.kind === 'file' && !definition.inputAdapter.path)
      || (definition.outputAdapter.kind === 'file' && !definition.outputAdapter.path);
    const inputFile = definition.inputAdapter.kind === 'file' ? definition.inputAdapter.path ?? `${scratchDir}/input.json` : undefined;
    const outputFile = definition.outputAdapter.kind === 'file' ? definition.outputAdapter.path ?? `${scratchDir}/output` : undefined;

    try {
      if (inputFile) await runtime.putFile(id, inputFile, payload, 0o644);
      // An empty output file up front, so that a file left by an earlier run at a fixed path can never
      // be mistaken for this run's output, and the scratch directory exists for the process to write
      // into. A fresh scratch directory the input file already created needs neither.
      const scratchExists = inputFile !== undefined && inputFile.startsWith(`${scratchDir}/`);
      if (outputFile && !(outputFile.startsWith(`${scratchDir}/`) && scratchExists)) await runtime.putFile(id, outputFile, '', 0o666);
      if (invocation.signal?.aborted) return finish({ cancelled: true });

      const { argv, environment } = expandPlaceholders(definition, { inputFile, outputFile });
      const exec = await runtime.exec(id, {
        argv: [definition.exec, ...argv],
        // The ECOWARE_* facts come last: a definition cannot make a hook lie about its tier.
        env: { ...environment, ...ecowareEnv },
        cwd: definition.cwd,
        stdin: definition.inputAdapter.kind === 'stdin' ? payload : undefined,
        timeoutMs: definition.timeoutMs ?? invocation.timeoutMs,
        maxOutputBytes: this.maxOutputBytes,
        signal: invocation.signal,
      });

      const adapter = definition.outputAdapter;
      if (adapter.kind === 'stream') {
        return finish(exec, { text: adapter.stream === 'STDOUT' ? exec.stdout : exec.stderr, truncated: false });
      }
      if (adapter.kind === 'file' && outputFile && !exec.cancelled) {
        return finish(exec, await this.readOutput(runtime, id, outputFile));
      }
      return finish(exec);
    } finally {
      if (usesScratch) await this.removeScratch(runtime, id, scratchDir);
    }
  }

  private async readOutput(runtime: RuntimeExecAndFiles, id: string, file: string): Promise<{ text: string; truncated: boolean } | undefined> {
    try {
      const content = await runtime.readFile(id, file);
      const truncated = content.length > this.maxOutputBytes;
      return { text: (truncated ? content.subarray(0, this.maxOutputBytes) : content).toString('utf8'), truncated };
    } catch (err) {
      // The process removed its output file: there is no output, which the result shows by its absence.
      if (err instanceof NotFoundError) return undefined;
      throw err;
    }
  }

  private async removeScratch(runtime: RuntimeExecAndFiles, id: string, dir: string): Promise<void> {
    try {
      await runtime.exec(id, { argv: ['rm', '-rf', dir], timeoutMs: CLEANUP_TIMEOUT_MS, maxOutputBytes: 1024 });
    } catch {
      // An image without `rm`, or a container that went away: a few bytes in its /tmp are harmless.
    }
  }
}

/** Script name, `process:<id>`, or the inline definition's exec: how the execution record names the hook. */
export function hookLabel(spec: HookSpec): string {
  switch (spec.kind) {
    case 'script':
      return spec.name;
    case 'process-ref':
      return `process:${spec.id}`;
    case 'process':
      return spec.definition.exec;
  }
}

export function hookPayload(invocation: HookInvocation): HookPayload {
  return {
    tier: invocation.tier.flatName,
    app: invocation.tier.app,
    vm: invocation.vm,
    event: invocation.event,
    cpu_cores: invocation.resources.cpu_cores,
    mem_units: invocation.resources.mem_units,
    old_allocation: invocation.oldAllocation,
    new_allocation: invocation.newAllocation,
  };
}

export function hookEnvironment(invocation: HookInvocation): Record<string, string> {
  return {
    ECOWARE_APP: invocation.tier.app,
    ECOWARE_TIER: invocation.tier.flatName,
    ECOWARE_VM: invocation.vm,
    ECOWARE_CPU_CORES: String(invocation.resources.cpu_cores),
    ECOWARE_MEM_UNITS: String(invocation.resources.mem_units),
    ECOWARE_EVENT: invocation.event,
  };
}

function hasShebang(script: Buffer): boolean {
  return script.length >= 2 && script[0] === 0x23 && script[1] === 0x21;
}

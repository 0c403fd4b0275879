import { HookResult } from '../../domain/hook-result';
import { HookInvocation, HookRunner } from '../../ports/hook-runner';

/** Runs no hook: records each invocation and answers with the exit code set for the hook (0 by default). */
export class FakeHookRunner implements HookRunner {
  readonly invocations: HookInvocation[] = [];
  /** Exit code by hook label (script name, or `process:<id>`). */
  readonly exitCodes = new Map<string, number>();

  async run(invocation: HookInvocation): Promise<HookResult> {
    this.invocations.push(invocation);
    const hook = invocation.spec.kind === 'script' ? invocation.spec.name : 'process';
    return {
      event: invocation.event, hook, exitCode: this.exitCodes.get(hook) ?? 0, stdout: '', stderr: '',
      timedOut: false, cancelled: invocation.signal?.aborted ?? false, truncated: false, durationMs: 0,
    };
  }
}

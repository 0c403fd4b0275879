import { HookEvent } from './topology';

/** What one hook run produced; kept in the execution record of the action that ran it. */
export interface HookResult {
  event: HookEvent;
  /** Script name, `process:<id>`, or the inline definition's exec. */
  hook: string;
  exitCode: number | null;
  stdout: string;
  stderr: string;
  /** For process definitions with a file output adapter: the file's content. */
  output?: string;
  timedOut: boolean;
  cancelled: boolean;
  truncated: boolean;
  durationMs: number;
}

export function isHookSuccess(result: HookResult): boolean {
  return result.exitCode === 0 && !result.timedOut && !result.cancelled;
}

import { HookEvent, HookSpec, Tier } from '../domain/topology';
import { Resources } from '../domain/resources';
import { Placement } from '../domain/allocation';

/** What a hook is told: `{tier, vm, old_allocation, new_allocation}` on stdin and as ECOWARE_* variables. */
export interface HookInvocation {
  event: HookEvent;
  spec: HookSpec;
  tier: Tier;
  vm: string;
  containerId: string;
  /** The container's resources after the change. */
  resources: Resources;
  oldAllocation: Placement;
  newAllocation: Placement;
  timeoutMs: number;
  signal?: AbortSignal;
}

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

/** Runs one hook inside a tier's container. A hook that exits non-zero resolves with its result; only I/O failures reject. */
export interface HookRunner {
  run(invocation: HookInvocation): Promise<HookResult>;
}

export function isHookSuccess(result: HookResult): boolean {
  return result.exitCode === 0 && !result.timedOut && !result.cancelled;
}

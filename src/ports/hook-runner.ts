import { HookEvent, HookSpec, Tier } from '../domain/topology';
import { Resources } from '../domain/resources';
import { Placement } from '../domain/allocation';
import { HookResult } from '../domain/hook-result';
import { RuntimeExecAndFiles } from './container-runtime';

export type { HookResult } from '../domain/hook-result';
export { isHookSuccess } from '../domain/hook-result';

/** What a hook is told: `{tier, vm, old_allocation, new_allocation}` on stdin and as ECOWARE_* variables. */
export interface HookInvocation {
  event: HookEvent;
  spec: HookSpec;
  tier: Tier;
  vm: string;
  /** Exec and files of that VM's runtime, as the executor resolved it: all a hook needs. */
  runtime: RuntimeExecAndFiles;
  containerId: string;
  /** The container's resources after the change. */
  resources: Resources;
  oldAllocation: Placement;
  newAllocation: Placement;
  timeoutMs: number;
  signal?: AbortSignal;
}

/** Runs one hook inside a tier's container. A hook that exits non-zero resolves with its result; only I/O failures reject. */
export interface HookRunner {
  run(invocation: HookInvocation): Promise<HookResult>;
}

import { HookEvent } from '../domain/topology';

/** Where hook scripts come from: `scale_hooks/<name>` and `tier_hooks/<name>` of a repository. */
export type HookKind = 'scale_hooks' | 'tier_hooks';

/** The repository folder each event's scripts live in. */
export const HOOK_FOLDER: Record<HookEvent, HookKind> = {
  on_node_scale: 'scale_hooks',
  on_dependency_scale: 'tier_hooks',
};

export interface HookSource {
  /**
   * Clones or pulls `repo` at `ref`; resolves with the commit now checked out. With `allowStale`, a
   * repository that can't be reached but was fetched before is used as last fetched (`stale: true`).
   */
  sync(repo: string, ref?: string, options?: { allowStale?: boolean }): Promise<{ commit: string; stale?: boolean }>;
  /** Commit currently checked out, if any. */
  currentCommit(): string | undefined;
  has(kind: HookKind, name: string): Promise<boolean>;
  read(kind: HookKind, name: string): Promise<Buffer>;
}

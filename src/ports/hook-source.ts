/** Where hook scripts come from: `scale_hooks/<name>` and `tier_hooks/<name>` of a repository. */
export type HookKind = 'scale_hooks' | 'tier_hooks';

export interface HookSource {
  /** Clones or pulls `repo` at `ref`; resolves with the commit now checked out. */
  sync(repo: string, ref?: string): Promise<{ commit: string }>;
  /** Commit currently checked out, if any. */
  currentCommit(): string | undefined;
  has(kind: HookKind, name: string): Promise<boolean>;
  read(kind: HookKind, name: string): Promise<Buffer>;
}

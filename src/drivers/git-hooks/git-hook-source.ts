import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { createHash, randomBytes } from 'node:crypto';
import { GitError, simpleGit, SimpleGit } from 'simple-git';
import { NotFoundError, UnsatisfiableError, ValidationError } from '../../domain/errors';
import { isValidName } from '../../domain/names';
import { HookKind, HookSource } from '../../ports/hook-source';

export interface GitHookSourceOptions {
  /** Longest one clone or fetch may take before it is given up. */
  timeoutMs?: number;
}

const DEFAULT_TIMEOUT_MS = 120_000;
const HOOK_KINDS: HookKind[] = ['scale_hooks', 'tier_hooks'];
const MAX_CACHED_BLOBS = 256;
const CLONE_PREFIX = 'clone-';

/**
 * Hook scripts from a git repository (`scale_hooks/<name>`, `tier_hooks/<name>`), cloned into
 * `<directory>/clone-<hash of the URL>`.
 *
 * Scripts are read from the synced commit's objects, not from the working tree, so an execution that
 * reads hooks while the repository is being pulled still sees one consistent commit. A sync that
 * fails leaves the previous clone and commit in force: a topology that cannot be honoured must not
 * take away the hooks of the one that stays. The clone of the repository used before the current
 * one is kept too, so that going back to it (a refused topology) is a fetch, not a new clone.
 */
export class GitHookSource implements HookSource {
  private readonly timeoutMs: number;
  private current: { dir: string; commit: string } | undefined;
  private previousDir: string | undefined;
  private queue: Promise<unknown> = Promise.resolve();
  /** Scripts by `<commit>:<path>`. */
  private readonly blobs = new Map<string, Buffer>();

  constructor(private readonly directory: string, options: GitHookSourceOptions = {}) {
    this.timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  }

  sync(repo: string, ref?: string, options: { allowStale?: boolean } = {}): Promise<{ commit: string; stale?: boolean }> {
    const run = this.queue.then(() => this.syncNow(repo, ref, options.allowStale ?? false));
    this.queue = run.catch(() => undefined);
    return run;
  }

  currentCommit(): string | undefined {
    return this.current?.commit;
  }

  /** The checked-out working tree of the current commit, for operators to look at. */
  workingTree(): string | undefined {
    return this.current?.dir;
  }

  async has(kind: HookKind, name: string): Promise<boolean> {
    const at = this.objectSpec(kind, name);
    if (at === undefined) return false;
    try {
      const type = await this.git(at.dir).raw(['cat-file', '-t', at.spec]);
      return type.trim() === 'blob';
    } catch {
      return false;
    }
  }

  async read(kind: HookKind, name: string): Promise<Buffer> {
    const at = this.objectSpec(kind, name);
    if (at === undefined) throw new NotFoundError(`hook ${kind}/${name}: the hooks repository has not been synced`);
    const { dir, spec } = at;
    const cached = this.blobs.get(spec);
    if (cached) return cached;
    let content: Buffer;
    try {
      content = (await this.git(dir).binaryCatFile(['blob', spec])) as Buffer;
    } catch {
      throw new NotFoundError(`hook ${kind}/${name} is not in the hooks repository at commit ${spec.split(':')[0]}`);
    }
    // A blob of a given commit never changes; the cache spares a git process on every hook run.
    if (this.blobs.size >= MAX_CACHED_BLOBS) this.blobs.clear();
    this.blobs.set(spec, content);
    return content;
  }

  /** `<commit>:<kind>/<name>` of the synced commit and the clone holding it; undefined before the first sync. */
  private objectSpec(kind: HookKind, name: string): { dir: string; spec: string } | undefined {
    if (!HOOK_KINDS.includes(kind)) throw new ValidationError('hook', `unknown hook folder '${kind}'`);
    if (!isValidName(name) || name.includes('..')) {
      throw new ValidationError('hook', `hook name '${name}' must be a plain file name (no path separator or '..')`);
    }
    const current = this.current;
    return current === undefined ? undefined : { dir: current.dir, spec: `${current.commit}:${kind}/${name}` };
  }

  private async syncNow(repo: string, ref: string | undefined, allowStale: boolean): Promise<{ commit: string; stale?: boolean }> {
    if (repo.startsWith('-')) throw new ValidationError('infrastructure.hooks_git_repo', 'must not start with -');
    if (ref !== undefined && (ref.startsWith('-') || /[\s~^:?*[\\]|\.\.|@\{/.test(ref))) {
      throw new ValidationError('infrastructure.hooks_git_ref', `'${ref}' is not a valid branch, tag or commit name`);
    }
    const remote = normaliseRepo(repo);
    await fs.mkdir(this.directory, { recursive: true });

    const dir = path.join(this.directory, `${CLONE_PREFIX}${createHash('sha256').update(remote).digest('hex').slice(0, 16)}`);

    let commit: string;
    let stale = false;
    if ((await this.originOf(dir)) === remote) {
      try {
        await this.run(dir, ['fetch', '--prune', '--force', '--tags', 'origin'], `cannot fetch hooks repository ${redact(repo)}`);
      } catch (err) {
        // A daemon restarting while the repository is unreachable carries on with what it fetched last.
        if (!allowStale) throw err;
        stale = true;
      }
      commit = await this.resolve(dir, repo, ref, !stale);
      await this.checkout(dir, commit);
    } else {
      // Cloned aside and moved into place only once complete: a half clone never looks like a clone.
      const fresh = path.join(this.directory, `${CLONE_PREFIX}${randomBytes(4).toString('hex')}.tmp`);
      try {
        await this.run(this.directory, ['clone', '--quiet', '--no-checkout', '--', remote, fresh], `cannot clone hooks repository ${redact(repo)}`);
        commit = await this.resolve(fresh, repo, ref, false);
        await this.checkout(fresh, commit);
        await fs.rm(dir, { recursive: true, force: true });
        await fs.rename(fresh, dir);
      } catch (err) {
        await fs.rm(fresh, { recursive: true, force: true });
        throw err;
      }
    }

    if (this.current && this.current.dir !== dir) this.previousDir = this.current.dir;
    this.current = { dir, commit };
    await this.pruneClones();
    return stale ? { commit, stale } : { commit };
  }

  /** Keeps the current clone and the one before it; older clones and leftovers of interrupted clones go. */
  private async pruneClones(): Promise<void> {
    const keep = new Set([this.current?.dir, this.previousDir].filter((d): d is string => d !== undefined).map((d) => path.basename(d)));
    for (const entry of await fs.readdir(this.directory)) {
      if (entry.startsWith(CLONE_PREFIX) && !keep.has(entry)) {
        await fs.rm(path.join(this.directory, entry), { recursive: true, force: true });
      }
    }
  }

  /** The commit `ref` names: a branch of the remote, a tag, or a commit id; none = the remote's default branch. */
  private async resolve(dir: string, repo: string, ref: string | undefined, fetched: boolean): Promise<string> {
    const git = this.git(dir);
    const tryRev = async (rev: string): Promise<string | undefined> => {
      try {
        const sha = (await git.raw(['rev-parse', '--verify', '--quiet', `${rev}^{commit}`])).trim();
        return sha || undefined;
      } catch {
        return undefined;
      }
    };
    if (ref === undefined) {
      // After a fetch the remote's default branch may have changed; a fresh clone already knows it.
      if (fetched) await this.run(dir, ['remote', 'set-head', 'origin', '--auto'], `cannot ask hooks repository ${redact(repo)} for its default branch`);
      const sha = await tryRev('refs/remotes/origin/HEAD');
      if (!sha) throw new UnsatisfiableError(`hooks repository ${redact(repo)} has no commits on its default branch`);
      return sha;
    }
    for (const candidate of [`refs/remotes/origin/${ref}`, `refs/tags/${ref}`]) {
      const sha = await tryRev(candidate);
      if (sha) return sha;
    }
    if (/^[0-9a-f]{4,40}$/i.test(ref)) {
      const sha = await tryRev(ref);
      if (sha) return sha;
      // A commit that no branch or tag reaches is fetched by id when the server allows it.
      if (ref.length === 40) {
        try {
          await this.run(dir, ['fetch', '--quiet', 'origin', ref], 'fetch by commit id');
          const fetchedSha = await tryRev(ref);
          if (fetchedSha) return fetchedSha;
        } catch {
          // fall through to the error below
        }
      }
    }
    throw new UnsatisfiableError(`hooks repository ${redact(repo)} has no branch, tag or commit '${ref}' (infrastructure.hooks_git_ref)`);
  }

  private async checkout(dir: string, commit: string): Promise<void> {
    // The working tree is for operators to look at; hooks are read from the commit itself.
    await this.run(dir, ['checkout', '--quiet', '--force', '--detach', commit], `cannot check out ${commit}`);
  }

  private async originOf(dir: string): Promise<string | undefined> {
    try {
      await fs.access(path.join(dir, '.git'));
      return (await this.git(dir).raw(['config', '--get', 'remote.origin.url'])).trim() || undefined;
    } catch {
      return undefined;
    }
  }

  private async run(dir: string, args: string[], failure: string): Promise<string> {
    const signal = AbortSignal.timeout(this.timeoutMs);
    try {
      return await this.git(dir, signal).raw(args);
    } catch (err) {
      if (signal.aborted || (err as { plugin?: string }).plugin === 'timeout') {
        throw new UnsatisfiableError(`${failure}: no answer within ${Math.round(this.timeoutMs / 1000)} s`);
      }
      throw new UnsatisfiableError(`${failure}: ${gitProblem(err)}`);
    }
  }

  private git(dir: string, signal?: AbortSignal): SimpleGit {
    const env: Record<string, string> = {};
    for (const [k, v] of Object.entries(process.env)) {
      if (v !== undefined && !isInteractiveOrConfigVariable(k)) env[k] = v;
    }
    // A daemon has nobody to type a password: fail at once instead of waiting on a prompt.
    env.GIT_TERMINAL_PROMPT = '0';
    env.GCM_INTERACTIVE = 'never';
    env.GIT_SSH_COMMAND ??= 'ssh -o BatchMode=yes';
    return simpleGit({
      baseDir: dir,
      abort: signal,
      timeout: { block: this.timeoutMs },
      unsafe: { allowUnsafeSshCommand: true },
    }).env(env);
  }
}

/**
 * Variables that make git start an editor, pager or password helper, or read other configuration.
 * A daemon needs none of them, and simple-git refuses to run while they are set.
 */
function isInteractiveOrConfigVariable(name: string): boolean {
  const n = name.toLowerCase();
  return ['editor', 'pager', 'prefix', 'ssh_askpass', 'git_askpass', 'git_editor', 'git_sequence_editor', 'git_pager',
    'git_exec_path', 'git_external_diff', 'git_proxy_command', 'git_template_dir'].includes(n) || n.startsWith('git_config');
}

/** A plain path is made absolute so that the recorded origin does not depend on the daemon's working directory. */
function normaliseRepo(repo: string): string {
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(repo) || /^[^/]+@[^/]+:/.test(repo)) return repo;
  return path.resolve(repo);
}

/** Credentials in a URL (`https://user:token@host/…`) never reach a message. */
function redact(repo: string): string {
  return `'${repo.replace(/\/\/[^/@]*@/, '//***@')}'`;
}

function gitProblem(err: unknown): string {
  const text = err instanceof GitError || err instanceof Error ? err.message : String(err);
  const lines = text.split('\n').map((l) => l.trim()).filter(Boolean);
  const fatal = lines.find((l) => /^(fatal|error):/i.test(l)) ?? lines[0] ?? 'git failed';
  return fatal.replace(/\/\/[^/@\s]*@/g, '//***@');
}

import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';

/** A real git repository on disk, for the hook source to clone over file:// or a plain path. */
export class GitFixture {
  readonly dir: string;

  constructor(readonly root: string, name = 'hooks-repo', branch = 'main') {
    this.dir = path.join(root, name);
    mkdirSync(this.dir, { recursive: true });
    this.git('init', '--quiet', '-b', branch);
  }

  git(...args: string[]): string {
    return execFileSync('git', args, {
      cwd: this.dir,
      encoding: 'utf8',
      env: {
        ...process.env,
        GIT_AUTHOR_NAME: 'Hook Author', GIT_AUTHOR_EMAIL: 'hooks@example.org',
        GIT_COMMITTER_NAME: 'Hook Author', GIT_COMMITTER_EMAIL: 'hooks@example.org',
      },
    }).trim();
  }

  /** Writes files (relative path -> content; null removes) and commits them; returns the commit id. */
  commit(files: Record<string, string | null>, message = 'update hooks'): string {
    for (const [rel, content] of Object.entries(files)) {
      const file = path.join(this.dir, rel);
      if (content === null) {
        rmSync(file, { force: true });
        continue;
      }
      mkdirSync(path.dirname(file), { recursive: true });
      writeFileSync(file, content);
      chmodSync(file, 0o755);
    }
    this.git('add', '-A');
    this.git('commit', '--quiet', '-m', message);
    return this.git('rev-parse', 'HEAD');
  }

  get url(): string {
    return `file://${this.dir}`;
  }
}

export function makeTempDir(prefix: string): string {
  return mkdtempSync(path.join(tmpdir(), prefix));
}

const EXAMPLE_HOOKS = path.join(__dirname, '..', '..', 'hooks');

/** The repository's own example hooks (hooks/), as files for GitFixture.commit. */
export function exampleHookFiles(): Record<string, string> {
  const files: Record<string, string> = {};
  for (const folder of ['scale_hooks', 'tier_hooks']) {
    for (const name of readdirSync(path.join(EXAMPLE_HOOKS, folder))) {
      files[`${folder}/${name}`] = readFileSync(path.join(EXAMPLE_HOOKS, folder, name), 'utf8');
    }
  }
  return files;
}

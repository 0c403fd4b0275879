import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import * as path from 'node:path';
import { UnsatisfiableError, ValidationError } from '../../src/domain/errors';
import { GitHookSource } from '../../src/drivers/git-hooks/git-hook-source';
import { HookRefreshSchedule } from '../../src/drivers/git-hooks/hook-refresh-schedule';
import { GitFixture, makeTempDir } from '../support/git-fixture';
import { waitFor } from '../support/wait-for';

describe('GitHookSource', () => {
  let root: string;
  let repo: GitFixture;
  let firstCommit: string;

  beforeEach(() => {
    root = makeTempDir('ecoware-hooks-git-');
    repo = new GitFixture(root);
    firstCommit = repo.commit({
      'scale_hooks/db_hook.sh': '#!/bin/sh\necho v1\n',
      'tier_hooks/reload.sh': '#!/bin/sh\necho reload\n',
    }, 'first hooks');
  });

  afterEach(() => rmSync(root, { recursive: true, force: true }));

  it('clones over file://, reports the commit and reads scripts from both folders', async () => {
    const source = new GitHookSource(path.join(root, 'state'));
    expect(source.currentCommit()).toBeUndefined();

    const { commit } = await source.sync(repo.url);

    expect(commit).toBe(firstCommit);
    expect(source.currentCommit()).toBe(firstCommit);
    expect((await source.read('scale_hooks', 'db_hook.sh')).toString()).toBe('#!/bin/sh\necho v1\n');
    expect((await source.read('tier_hooks', 'reload.sh')).toString()).toContain('reload');
    expect(await source.has('scale_hooks', 'reload.sh')).toBe(false);
    expect(await source.has('tier_hooks', 'reload.sh')).toBe(true);
    expect(await source.has('scale_hooks', 'missing.sh')).toBe(false);
    // The working tree is checked out for operators to look at.
    expect(source.workingTree()).toMatch(new RegExp(`^${root}/state/clone-[0-9a-f]{16}$`));
    expect(readFileSync(path.join(source.workingTree()!, 'scale_hooks', 'db_hook.sh'), 'utf8')).toContain('v1');
  });

  it('sees a new commit on the next sync, and a plain local path works like file://', async () => {
    const source = new GitHookSource(path.join(root, 'state'));
    await source.sync(repo.dir);
    const second = repo.commit({ 'scale_hooks/db_hook.sh': '#!/bin/sh\necho v2\n', 'scale_hooks/new.sh': '#!/bin/sh\n' });

    const { commit } = await source.sync(repo.dir);

    expect(commit).toBe(second);
    expect(commit).not.toBe(firstCommit);
    expect((await source.read('scale_hooks', 'db_hook.sh')).toString()).toContain('v2');
    expect(await source.has('scale_hooks', 'new.sh')).toBe(true);
  });

  it('checks out a branch, a tag or a commit id given as hooks_git_ref', async () => {
    repo.git('tag', 'v1');
    repo.git('checkout', '--quiet', '-b', 'canary');
    const canary = repo.commit({ 'scale_hooks/db_hook.sh': '#!/bin/sh\necho canary\n' });
    repo.git('checkout', '--quiet', 'main');
    const mainHead = repo.commit({ 'scale_hooks/db_hook.sh': '#!/bin/sh\necho main\n' });
    const source = new GitHookSource(path.join(root, 'state'));

    expect((await source.sync(repo.url, 'canary')).commit).toBe(canary);
    expect((await source.read('scale_hooks', 'db_hook.sh')).toString()).toContain('canary');
    expect((await source.sync(repo.url, 'v1')).commit).toBe(firstCommit);
    expect((await source.read('scale_hooks', 'db_hook.sh')).toString()).toContain('v1');
    expect((await source.sync(repo.url, firstCommit.slice(0, 10))).commit).toBe(firstCommit);
    expect((await source.sync(repo.url)).commit).toBe(mainHead);
  });

  it('follows the remote default branch when no ref is given', async () => {
    const other = new GitFixture(root, 'trunk-repo', 'trunk');
    const trunkHead = other.commit({ 'scale_hooks/a.sh': '#!/bin/sh\n' });
    const source = new GitHookSource(path.join(root, 'state'));
    expect((await source.sync(other.url)).commit).toBe(trunkHead);
  });

  it('refuses a repository that cannot be cloned, naming it, without any prompt', async () => {
    const source = new GitHookSource(path.join(root, 'state'), { timeoutMs: 20_000 });
    const missing = `file://${path.join(root, 'no-such-repo')}`;
    await expect(source.sync(missing)).rejects.toThrow(UnsatisfiableError);
    await expect(source.sync(missing)).rejects.toThrow(/cannot clone hooks repository .*no-such-repo/);
    // An https remote that refuses the connection must fail, not ask for a password.
    await expect(source.sync('https://user:secret@127.0.0.1:1/hooks.git')).rejects.toThrow(UnsatisfiableError);
    await expect(source.sync('https://user:secret@127.0.0.1:1/hooks.git')).rejects.not.toThrow(/secret/);
    expect(source.currentCommit()).toBeUndefined();
  });

  it('refuses a missing ref and keeps the hooks in force', async () => {
    const source = new GitHookSource(path.join(root, 'state'));
    await source.sync(repo.url);

    await expect(source.sync(repo.url, 'no-such-branch')).rejects.toThrow(/no branch, tag or commit 'no-such-branch'/);

    expect(source.currentCommit()).toBe(firstCommit);
    expect(await source.has('scale_hooks', 'db_hook.sh')).toBe(true);
  });

  it('re-clones when the repository URL changes, and a failed switch leaves the old one in force', async () => {
    const other = new GitFixture(root, 'other-repo');
    const otherCommit = other.commit({ 'scale_hooks/other.sh': '#!/bin/sh\n' });
    const source = new GitHookSource(path.join(root, 'state'));
    await source.sync(repo.url);

    await expect(source.sync(`file://${path.join(root, 'gone')}`)).rejects.toThrow(UnsatisfiableError);
    expect(await source.has('scale_hooks', 'db_hook.sh')).toBe(true);

    expect((await source.sync(other.url)).commit).toBe(otherCommit);
    expect(await source.has('scale_hooks', 'other.sh')).toBe(true);
    expect(await source.has('scale_hooks', 'db_hook.sh')).toBe(false);

    // Going back to the first repository finds its clone (a fetch sees the commit made since).
    const firstClone = readdirSync(path.join(root, 'state')).sort();
    const newer = repo.commit({ 'scale_hooks/db_hook.sh': '#!/bin/sh\necho v3\n' });
    expect((await source.sync(repo.url)).commit).toBe(newer);
    expect((await source.read('scale_hooks', 'db_hook.sh')).toString()).toContain('v3');
    expect(readdirSync(path.join(root, 'state')).sort()).toEqual(firstClone);

    // Only the current clone and the one before it are kept.
    const third = new GitFixture(root, 'third-repo');
    third.commit({ 'scale_hooks/third.sh': '#!/bin/sh\n' });
    await source.sync(third.url);
    expect(readdirSync(path.join(root, 'state'))).toHaveLength(2);
    expect(await source.has('scale_hooks', 'third.sh')).toBe(true);
  });

  it('reads from the synced commit even when a later pull is under way', async () => {
    const source = new GitHookSource(path.join(root, 'state'));
    await source.sync(repo.url);
    const [content] = await Promise.all([
      source.read('scale_hooks', 'db_hook.sh'),
      (async () => {
        repo.commit({ 'scale_hooks/db_hook.sh': '#!/bin/sh\necho v2\n' });
        await source.sync(repo.url);
      })(),
    ]);
    expect(['#!/bin/sh\necho v1\n', '#!/bin/sh\necho v2\n']).toContain(content.toString());
    expect((await source.read('scale_hooks', 'db_hook.sh')).toString()).toContain('v2');
  });

  it.each(['../scale_hooks/db_hook.sh', 'a/b.sh', '..', 'x\\y.sh', ''])('refuses the hook name %p', async (name) => {
    const source = new GitHookSource(path.join(root, 'state'));
    await source.sync(repo.url);
    await expect(source.has('scale_hooks', name)).rejects.toThrow(ValidationError);
    await expect(source.read('tier_hooks', name)).rejects.toThrow(ValidationError);
  });

  it('refuses refs that would be read as options', async () => {
    const source = new GitHookSource(path.join(root, 'state'));
    await expect(source.sync(repo.url, '--upload-pack=touch /tmp/x')).rejects.toThrow(ValidationError);
    expect(existsSync(path.join(root, 'state')) ? readdirSync(path.join(root, 'state')) : []).toEqual([]);
  });
});

describe('HookRefreshSchedule', () => {
  it.each(['not cron', '61 * * * *', '* * *', '', '0 0 31 2 *'])('refuses the expression %p on infrastructure.hooks_refresh', (expr) => {
    const schedule = new HookRefreshSchedule();
    expect(() => schedule.start(expr, async () => undefined)).toThrow(ValidationError);
    try {
      schedule.start(expr, async () => undefined);
    } catch (err) {
      expect((err as ValidationError).field).toBe('infrastructure.hooks_refresh');
    }
  });

  it('pulls on schedule, never two refreshes at once, and logs failures without stopping', async () => {
    const warnings: string[] = [];
    const schedule = new HookRefreshSchedule({ warn: (m) => warnings.push(m) });
    let running = 0;
    let maxRunning = 0;
    let calls = 0;
    // Each refresh outlasts several one-second ticks; the odd ones fail.
    schedule.start('* * * * * *', async () => {
      calls++;
      running++;
      maxRunning = Math.max(maxRunning, running);
      await new Promise((r) => setTimeout(r, 2_200));
      running--;
      if (calls % 2 === 1) throw new Error(`fetch failed ${calls}`);
    });
    expect(await waitFor(async () => calls, (n) => n >= 2, 20_000)).toBeGreaterThanOrEqual(2);
    await schedule.stop();
    const callsAtStop = calls;

    expect(maxRunning).toBe(1);
    expect(warnings.some((w) => /hooks refresh failed.*fetch failed 1/.test(w))).toBe(true);
    await new Promise((r) => setTimeout(r, 1_500));
    expect(calls).toBe(callsAtStop);
  });
});


import { rmSync } from 'node:fs';
import * as path from 'node:path';
import { UnsatisfiableError } from '../../src/domain/errors';
import { parseProcessDefinition } from '../../src/schema/process-definition';
import { parseTopology } from '../../src/schema/topology-file';
import { FileProcessDefinitionStore } from '../support/json-layout/file-process-definition-store';
import { GitHookSource } from '../../src/drivers/git-hooks/git-hook-source';
import { checkHooks, processDefinitionUsers, syncAndCheckHooks } from '../../src/use-cases/topology/check-hooks';
import { GitFixture, makeTempDir } from '../support/git-fixture';

function topologyWith(tiers: Record<string, unknown>, repo?: string) {
  return parseTopology({
    infrastructure: { cpu_cores: 2, mem_units: 8, ...(repo ? { hooks_git_repo: repo } : {}) },
    apps: [
      { name: 'other', tiers: { web: { docker_image: 'busybox' } } },
      { name: 'rubis', tiers },
    ],
  });
}

describe('checkHooks', () => {
  let root: string;
  let repo: GitFixture;
  let source: GitHookSource;
  let store: FileProcessDefinitionStore;

  beforeEach(async () => {
    root = makeTempDir('ecoware-check-hooks-');
    repo = new GitFixture(root);
    repo.commit({ 'scale_hooks/mysql_hook.sh': '#!/bin/sh\n', 'tier_hooks/reload_server_pool.sh': '#!/bin/sh\n' });
    source = new GitHookSource(path.join(root, 'state', 'hooks'));
    await source.sync(repo.url);
    store = new FileProcessDefinitionStore(path.join(root, 'state'));
  });
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  it('accepts a topology whose scripts are in the right folders and whose process ids are registered', async () => {
    const id = await store.create(parseProcessDefinition({ exec: '/bin/true' }, 'd'));
    const topology = topologyWith({
      lb: { docker_image: 'busybox', depends_on: ['app'], on_dependency_scale: 'reload_server_pool.sh' },
      app: { docker_image: 'busybox', depends_on: ['db'], on_node_scale: `process:${id}`, on_dependency_scale: { exec: '/bin/true' } },
      db: { docker_image: 'busybox', on_node_scale: 'mysql_hook.sh' },
    }, repo.url);
    await expect(checkHooks(topology, source, store)).resolves.toBeUndefined();
  });

  it('names every missing hook with its tier field: wrong folder, absent script, unregistered process', async () => {
    const topology = topologyWith({
      lb: { docker_image: 'busybox', on_dependency_scale: 'mysql_hook.sh' },
      app: { docker_image: 'busybox', on_node_scale: 'jboss_hook.sh', on_dependency_scale: 'process:42' },
      db: { docker_image: 'busybox', on_node_scale: 'mysql_hook.sh' },
    }, repo.url);
    const error = await checkHooks(topology, source, store).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UnsatisfiableError);
    const message = (error as Error).message;
    expect(message).toContain("apps[1].tiers.lb.on_dependency_scale: hook 'mysql_hook.sh' is not in tier_hooks/");
    expect(message).toContain("apps[1].tiers.app.on_node_scale: hook 'jboss_hook.sh' is not in scale_hooks/");
    expect(message).toContain("apps[1].tiers.app.on_dependency_scale: process definition '42' is not registered");
    expect(message).not.toContain('tiers.db');
  });

  it('sees a hook once a later commit adds it', async () => {
    const topology = topologyWith({ app: { docker_image: 'busybox', on_node_scale: 'jboss_hook.sh' } }, repo.url);
    await expect(checkHooks(topology, source, store)).rejects.toThrow(UnsatisfiableError);
    repo.commit({ 'scale_hooks/jboss_hook.sh': '#!/bin/sh\n' });
    await source.sync(repo.url);
    await expect(checkHooks(topology, source, store)).resolves.toBeUndefined();
  });

  it('refuses hook scripts when the topology has no hooks repository', async () => {
    const topology = topologyWith({ db: { docker_image: 'busybox', on_node_scale: 'mysql_hook.sh' } });
    await expect(checkHooks(topology, undefined, store)).rejects.toThrow(/apps\[1\]\.tiers\.db\.on_node_scale: .*needs infrastructure\.hooks_git_repo/);
    await expect(checkHooks(topology, source, store)).rejects.toThrow(/needs infrastructure\.hooks_git_repo/);
  });

  it('lists the tier fields that name a process definition', () => {
    const topology = topologyWith({
      a: { docker_image: 'busybox', on_node_scale: 'process:7' },
      b: { docker_image: 'busybox', on_dependency_scale: 'process:7', on_node_scale: 'process:8' },
    });
    expect(processDefinitionUsers(topology, '7')).toEqual(['apps[1].tiers.a.on_node_scale', 'apps[1].tiers.b.on_dependency_scale']);
    expect(processDefinitionUsers(undefined, '7')).toEqual([]);
  });
});

describe('syncAndCheckHooks', () => {
  let root: string;
  beforeEach(() => { root = makeTempDir('ecoware-sync-check-'); });
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  const withRepo = (repo: string, hook: string) => parseTopology({
    infrastructure: { cpu_cores: 2, mem_units: 8, hooks_git_repo: repo },
    apps: [{ name: 'a', tiers: { db: { docker_image: 'busybox', on_node_scale: hook } } }],
  });

  it('puts the hooks of the topology in force back when a switch to another repository is refused', async () => {
    const first = new GitFixture(root, 'first');
    const firstCommit = first.commit({ 'scale_hooks/db.sh': '#!/bin/sh\necho first\n' });
    const second = new GitFixture(root, 'second');
    second.commit({ 'scale_hooks/other.sh': '#!/bin/sh\n' });
    const source = new GitHookSource(path.join(root, 'state', 'hooks'));
    const store = new FileProcessDefinitionStore(path.join(root, 'state'));
    const inForce = withRepo(first.url, 'db.sh');
    expect(await syncAndCheckHooks(inForce, undefined, source, store)).toEqual({ commit: firstCommit });

    await expect(syncAndCheckHooks(withRepo(second.url, 'db.sh'), inForce, source, store))
      .rejects.toThrow(/hook 'db.sh' is not in scale_hooks\//);

    expect(source.currentCommit()).toBe(firstCommit);
    expect((await source.read('scale_hooks', 'db.sh')).toString()).toContain('first');
  });

  it('checks process references of a topology without a hooks repository without touching the source', async () => {
    const source = new GitHookSource(path.join(root, 'state', 'hooks'));
    const store = new FileProcessDefinitionStore(path.join(root, 'state'));
    const topology = parseTopology({
      infrastructure: { cpu_cores: 2, mem_units: 8 },
      apps: [{ name: 'a', tiers: { db: { docker_image: 'busybox', on_node_scale: 'process:1' } } }],
    });
    await expect(syncAndCheckHooks(topology, undefined, source, store)).rejects.toThrow(/process definition '1' is not registered/);
    expect(source.currentCommit()).toBeUndefined();
  });
});

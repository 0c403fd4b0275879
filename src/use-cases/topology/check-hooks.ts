import { UnsatisfiableError } from '../../domain/errors';
import { HookEvent, HookSpec, Topology } from '../../domain/topology';
import { HOOK_FOLDER, HookSource } from '../../ports/hook-source';
import { ProcessDefinitionStore } from '../../ports/process-definition-store';

/**
 * Refuses a topology whose hooks cannot run (its `hooks_refresh` was checked by parseTopology): a script the synced hooks repository lacks (or no repository at all), or a
 * `process:<id>` the registry does not hold. Every missing hook is named
 * in one message, with the tier field that asks for it, so one correction is enough.
 * Call it after the hook source was synced to the topology's `hooks_git_repo`.
 */
export async function checkHooks(topology: Topology, source: HookSource | undefined, definitions: ProcessDefinitionStore): Promise<void> {
  const problems: string[] = [];
  const repo = topology.infrastructure.hooksGitRepo;
  for (const use of hookUses(topology)) {
    const spec = use.spec;
    if (spec.kind === 'script') {
      const folder = HOOK_FOLDER[use.event];
      if (repo === undefined || source === undefined) {
        problems.push(`${use.field}: hook script '${spec.name}' needs infrastructure.hooks_git_repo`);
      } else if (!(await source.has(folder, spec.name))) {
        const at = source.currentCommit();
        problems.push(`${use.field}: hook '${spec.name}' is not in ${folder}/ of the hooks repository${at ? ` at commit ${at.slice(0, 12)}` : ''}`);
      }
    } else if (spec.kind === 'process-ref') {
      if (!(await definitions.get(spec.id))) {
        problems.push(`${use.field}: process definition '${spec.id}' is not registered (POST /api/process_definition/)`);
      }
    }
  }
  if (problems.length > 0) throw new UnsatisfiableError(problems.join('; '));
}

/**
 * Brings the hook source to the topology's repository and checks its hooks; when the topology is
 * refused, the source goes back to the repository and ref of the topology still in force, whose
 * hooks must keep running. (The source keeps the previous clone, so going back is a fetch.)
 */
export async function syncAndCheckHooks(
  topology: Topology,
  inForce: Topology | undefined,
  source: HookSource,
  definitions: ProcessDefinitionStore,
  options: { allowStale?: boolean } = {},
): Promise<{ commit?: string; stale?: boolean }> {
  const { hooksGitRepo, hooksGitRef } = topology.infrastructure;
  if (!hooksGitRepo) {
    await checkHooks(topology, undefined, definitions);
    return {};
  }
  const { commit, stale } = await source.sync(hooksGitRepo, hooksGitRef, options);
  try {
    await checkHooks(topology, source, definitions);
  } catch (err) {
    const previous = inForce?.infrastructure;
    if (previous?.hooksGitRepo) {
      // Best effort: if the old repository cannot be reached now, the refusal is still the answer.
      await source.sync(previous.hooksGitRepo, previous.hooksGitRef).catch(() => undefined);
    }
    throw err;
  }
  return stale ? { commit, stale } : { commit };
}

export interface HookUse {
  /** JSON path of the tier field, e.g. `apps[0].tiers.db.on_node_scale`. */
  field: string;
  event: HookEvent;
  spec: HookSpec;
  flatTier: string;
}

/** Every hook the topology names, with the field that names it. */
export function hookUses(topology: Topology): HookUse[] {
  const uses: HookUse[] = [];
  topology.apps.forEach((app, i) => {
    for (const tierName of app.tierNames) {
      const tier = [...topology.tiers.values()].find((t) => t.app === app.name && t.tier === tierName);
      if (!tier) continue;
      const base = `apps[${i}].tiers.${tierName}`;
      if (tier.onNodeScale) uses.push({ field: `${base}.on_node_scale`, event: 'on_node_scale', spec: tier.onNodeScale, flatTier: tier.flatName });
      if (tier.onDependencyScale) {
        uses.push({ field: `${base}.on_dependency_scale`, event: 'on_dependency_scale', spec: tier.onDependencyScale, flatTier: tier.flatName });
      }
    }
  });
  return uses;
}

/** Fields of the topology that name `process:<id>`: what a registry delete must not pull from under it. */
export function processDefinitionUsers(topology: Topology | undefined, id: string): string[] {
  if (!topology) return [];
  return hookUses(topology).filter((u) => u.spec.kind === 'process-ref' && u.spec.id === id).map((u) => u.field);
}

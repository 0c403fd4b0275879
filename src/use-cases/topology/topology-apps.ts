import { ConflictError } from '../../domain/errors';
import { Topology } from '../../domain/topology';
import { AppEdit, withApp, withoutApp } from '../../domain/topology-edit';
import { checkHooks } from './check-hooks';
import { Knowledge, Services } from '../cluster/knowledge';

/**
 * App-level edits of the topology in force. Only the app that changes is checked, against the
 * infrastructure and the apps in force: no engine is pinged or listed, the hooks repository is not
 * fetched (the new app's hooks are looked up in the checkout as last fetched), and the loops that
 * follow the topology keep running. Run them on the plan queue, like every change of the topology.
 * `persist` writes the new document (and whatever goes with it) before it is put in force; when it
 * fails, nothing changed.
 */
export async function addApp(knowledge: Knowledge, services: Services, app: AppEdit, persist: (document: Record<string, unknown>) => Promise<void>): Promise<Topology> {
  const inForce = knowledge.requireDeployment().topology;
  const next = withApp(inForce, app);
  const only: Topology = { ...next, apps: next.apps.filter((a) => a.name === app.name) };
  await checkHooks(only, inForce.infrastructure.hooksGitRepo ? services.hookSource : undefined, services.processDefinitions);
  await persist(next.raw);
  knowledge.appsEdited(next);
  return next;
}

/**
 * Takes the app out of the topology in force; refused (409) while a container of it runs. Resolves
 * with false, changing nothing, when the topology holds no such app.
 */
export async function removeApp(knowledge: Knowledge, name: string, persist: (document: Record<string, unknown>) => Promise<void>): Promise<boolean> {
  const { topology, cluster } = knowledge.requireDeployment();
  const next = withoutApp(topology, name);
  if (!next) return false;
  for (const { vm, containers } of Object.values(cluster)) {
    const left = [...topology.tiers.values()].filter((t) => t.app === name && containers[t.flatName]).map((t) => t.flatName);
    if (left.length > 0) throw new ConflictError(`tier(s) ${left.join(', ')} still run on vm '${vm.name}': remove them with a plan first`);
  }
  await persist(next.raw);
  knowledge.appsEdited(next);
  return true;
}

import { TierResources, tierTotals } from '../domain/allocation';
import { placementOfCluster } from '../domain/cluster';
import { Execution } from '../domain/execution';
import { Knowledge } from './knowledge';
import { SerialQueue } from './serial-queue';

/**
 * Self-healing (SPEC §8): a node unreachable for `node_lost_after_s` is lost. With `self_heal`, what
 * its containers held is dropped from the allocation and asked of the other nodes as an execution
 * of kind `heal` (a plan restoring the affected tiers' totals; an elastic cloud may grow for it).
 * The node is marked replaced: when it answers again, the managed containers it still runs are
 * removed (see node-health.ts), so no tier runs twice.
 */
export async function healLostNode(
  knowledge: Knowledge,
  queue: SerialQueue,
  submit: (request: { kind: 'heal'; plan: TierResources }) => Promise<{ execution: Execution; done: Promise<Execution> }>,
  name: string,
): Promise<Execution | undefined> {
  const plan = await queue.run(async () => {
    const deployment = knowledge.deployment;
    const state = deployment?.cluster[name];
    if (!deployment || !state || !deployment.topology.infrastructure.nodePool.selfHeal) return undefined;
    const affected = Object.keys(state.containers);
    if (affected.length === 0) return undefined;
    const totals = tierTotals(placementOfCluster(deployment.cluster));
    knowledge.replaceCluster({ ...deployment.cluster, [name]: { vm: state.vm, containers: {} } });
    knowledge.nodes.markReplaced(name);
    return Object.fromEntries(affected.map((tier) => [tier, totals[tier]]));
  });
  if (!plan) return undefined;
  const { done } = await submit({ kind: 'heal', plan });
  return done;
}

import { tierTotals } from '../../domain/allocation';
import { placementOfCluster } from '../../domain/cluster';
import { errorMessage } from '../../domain/errors';
import { EventBus } from '../../domain/events';
import { Execution } from '../../domain/execution';
import { log } from '../../log';
import { ExecutionQueue } from '../execution/execution-queue';
import { Knowledge } from '../cluster/knowledge';
import { NodeHealthOptions } from './node-health';
import { SerialQueue } from '../execution/serial-queue';
import { JobView, NO_JOBS } from '../jobs/job-holdings';

/**
 * Self-healing (SPEC §8): a node unreachable for `node_lost_after_s` is lost, and on an elastic cloud
 * a VM the cloud no longer lists (`gone`: an instance terminated or replaced outside the daemon) is
 * lost at once. With `self_heal`, what its containers held is dropped from the allocation and asked
 * of the other nodes as an execution of kind `heal` (a plan restoring the affected tiers' totals; an
 * elastic cloud may grow for it).
 * An unreachable node is marked replaced: when it answers again, the managed containers it still
 * runs are removed (see node-health.ts), so no tier runs twice. A gone VM leaves the cluster (even
 * without `self_heal`, or when it ran nothing): it will not come back.
 */
export async function healLostNode(
  knowledge: Knowledge,
  queue: SerialQueue,
  executions: ExecutionQueue,
  name: string,
  options: { gone?: boolean } = {},
): Promise<Execution | undefined> {
  const plan = await queue.run(async () => {
    const deployment = knowledge.deployment;
    const state = deployment?.cluster[name];
    if (!deployment || !state) return undefined;
    const affected = Object.keys(state.containers);
    const heal = deployment.topology.infrastructure.nodePool.selfHeal && affected.length > 0;
    const totals = tierTotals(placementOfCluster(deployment.cluster));
    if (!options.gone && !heal) return undefined;
    knowledge.vmLost(name, { gone: options.gone ?? false });
    return heal ? Object.fromEntries(affected.map((tier) => [tier, totals[tier]])) : undefined;
  });
  if (!plan) return undefined;
  const { done } = await executions.submit({ kind: 'heal', plan });
  return done;
}

/**
 * What the daemon does on the health loop's news: every change of a node's health goes on the bus
 * (the node feed, metrics); a lost node is announced, then healed (above), and the outcome logged.
 * The jobs are poked on each change of the nodes (a node back, gone or joined), so queued jobs are
 * reconsidered.
 */
export function healthReporting(knowledge: Knowledge, queue: SerialQueue, executions: ExecutionQueue, events: EventBus, jobs: JobView = NO_JOBS): NodeHealthOptions {
  return {
    onChange: (change) => {
      events.publish({ type: 'node', name: change.name, health: change.health, at: new Date().toISOString() });
      jobs.poke();
    },
    onJoined: () => jobs.poke(),
    onLost: (name, { gone }) => {
      events.publish({ type: 'node', name, health: 'lost', at: new Date().toISOString() });
      jobs.poke();
      void healLostNode(knowledge, queue, executions, name, { gone })
        .then((healed) => { if (healed) log.warn({ node: name, execution_id: healed.id, status: healed.status }, 'node lost: its tiers were placed elsewhere'); })
        .catch((e) => log.error({ node: name, err: errorMessage(e) }, 'healing a lost node failed'));
    },
  };
}

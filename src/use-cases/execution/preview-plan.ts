import { Action } from '../../domain/action';
import { Placement } from '../../domain/allocation';
import { PartialPlan } from '../../domain/plan';
import { NodeLimitsRequest } from '../nodes/node-limits';
import { decide, takeSnapshot } from './decide';
import { refreshDeployment } from '../cluster/refresh-cluster';
import { Knowledge, Services } from '../cluster/knowledge';

export interface Preview {
  actions: string[][];
  steps: Action[][];
  allocation: Placement;
  cost: number;
  lower_bound: number;
  optimal: boolean;
}

/** What `execute` would do with this plan, now; nothing changes. */
export async function previewPlan(
  knowledge: Knowledge, services: Pick<Services, 'allocator' | 'runtimeFor' | 'jobs'>, plan: PartialPlan,
  extraLimits: NodeLimitsRequest = {},
): Promise<Preview> {
  const deployment = knowledge.requireDeployment();
  // Seen as an execution would see it now (see refresh-cluster.ts); the knowledge itself is left as it is.
  const cluster = await refreshDeployment(knowledge, services.runtimeFor);
  // Running jobs' cores are left alone as an execution would: a plan that needs them is refused (held_by_jobs).
  const snapshot = await takeSnapshot({ ...deployment, cluster }, services.runtimeFor, services.jobs);
  const { result, translation } = await decide(snapshot, services.allocator, plan, {}, knowledge.nodes.limits(extraLimits));
  return {
    actions: translation.actions,
    steps: translation.steps,
    allocation: result.placement,
    cost: result.cost,
    lower_bound: result.lowerBound,
    optimal: result.optimal,
  };
}

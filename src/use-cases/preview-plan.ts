import { Action } from '../domain/action';
import { Placement } from '../domain/allocation';
import { PartialPlan } from '../domain/plan';
import { decide, takeSnapshot } from './decide';
import { Knowledge, Services } from './knowledge';

export interface Preview {
  actions: string[][];
  steps: Action[][];
  allocation: Placement;
  cost: number;
  lower_bound: number;
  optimal: boolean;
}

/** What `execute` would do with this plan, now; nothing changes. */
export async function previewPlan(knowledge: Knowledge, services: Pick<Services, 'allocator'>, plan: PartialPlan): Promise<Preview> {
  const snapshot = await takeSnapshot(knowledge.requireDeployment());
  const { result, translation } = await decide(snapshot, services.allocator, plan);
  return {
    actions: translation.actions,
    steps: translation.steps,
    allocation: result.placement,
    cost: result.cost,
    lower_bound: result.lowerBound,
    optimal: result.optimal,
  };
}

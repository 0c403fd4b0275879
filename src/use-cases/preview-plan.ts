import { Action } from '../domain/action';
import { Placement } from '../domain/allocation';
import { PartialPlan } from '../domain/plan';
import { decide } from './decide';
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
export async function previewPlan(knowledge: Knowledge, services: Services, plan: PartialPlan): Promise<Preview> {
  const { result, translation } = await decide(knowledge.requireDeployment(), services, plan);
  return {
    actions: translation.actions,
    steps: translation.steps,
    allocation: result.placement,
    cost: result.cost,
    lower_bound: result.lowerBound,
    optimal: result.optimal,
  };
}

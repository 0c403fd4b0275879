import { AllocationInstance, currentLayout, emptyLayout, isValidLayout, Layout, layoutCost } from '../model/allocation-instance';
import { currentFluidLayout, carriedFluidLayout, packedFluidLayout } from './container-search';
import { greedyLayout, packedLayout } from './greedy-placement';
import { improveByMoves } from './local-moves';

/**
 * The container search's starts, each taken to its local optimum by the cheap moves: repairing the
 * current allocation, packing afresh, and both again with fluid sizes (see container-search.ts);
 * with `carried`, also a layout of an earlier, similar problem carried over with fluid sizes. Each
 * is finite and takes milliseconds even at 100 × 50; past `deadlineMs` no further one is built,
 * the first always is. The greedy repair knows nothing of max_vms: a layout over it is no start.
 */
export function searchStarts(instance: AllocationInstance, deadlineMs: number, carried?: Layout): Layout[] {
  const valid = (l: Layout | undefined) => (l && isValidLayout(instance, l) ? l : undefined);
  const builders = [
    () => valid(greedyLayout(instance, currentLayout(instance))) ?? valid(greedyLayout(instance, emptyLayout(instance))),
    () => valid(packedLayout(instance)),
    () => valid(currentFluidLayout(instance)),
    () => valid(packedFluidLayout(instance)),
  ];
  if (carried) builders.unshift(() => valid(carriedFluidLayout(instance, carried)));
  const starts: Layout[] = [];
  for (const build of builders) {
    if (starts.length > 0 && Date.now() >= deadlineMs) break;
    const start = build();
    if (start) starts.push(improveByMoves(instance, start, deadlineMs));
  }
  return starts;
}

/** The cheapest of `layouts`, or undefined when there is none. */
export function cheapestLayout(instance: AllocationInstance, layouts: Layout[]): Layout | undefined {
  return layouts.length > 0 ? layouts.reduce((a, b) => (layoutCost(instance, b) < layoutCost(instance, a) ? b : a)) : undefined;
}

import { Resources } from '../../domain/resources';
import { AllocationInstance, Layout, mayHost, mustKeep } from '../model/allocation-instance';
import { FluidMoves } from './fluid-moves';
import { reassignContents, reassignmentReserveMs } from './content-assignment';
import { seededRandom } from './seeded-random';

export interface ContainerSearchOptions {
  /** Absolute time (Date.now()) at which the search stops. */
  deadlineMs: number;
  seed: number;
  /** Stop when the cost reaches this (a proven lower bound). */
  targetCost?: number;
  /**
   * Stop after this many rounds (a descent and its kicks) even before the deadline: a fixed amount
   * of work, for measurements that the machine's load must not decide.
   */
  maxRounds?: number;
  /**
   * Share of the kicks that re-place a whole tier (one with two containers or more) from nothing,
   * whatever it costs: the next descent then merges around its fewer containers. Default
   * `TIER_KICK_SHARE`.
   */
  tierKickShare?: number;
}

/**
 * Measured at a fixed 300 rounds on five seeds each of fleet 50 × 25 / 100 × 50 and scale-out
 * 100 × 50, summed: 15311 without tier kicks, 15247 with 0.15, 15222 with 0.3 (search seed 2: 15317
 * against 15227 with 0.15); a fleet's cheapest layouts have fewer containers per tier than its
 * local optima, and no improving move merges three containers into two.
 */
export const TIER_KICK_SHARE = 0.2;

/**
 * Local search over which containers exist, with their sizes left fluid.
 *
 * Once the set of (VM, tier) containers is chosen, sizes are two independent transportation
 * problems (one per resource: tiers supply their demand, VMs absorb up to their capacity, every
 * container carries at least 1). So a move only has to decide containers; the sizes follow by
 * augmenting paths through the containers already there: a tier's load pushed off one VM may
 * travel tier → VM → other tier on that VM → another VM … until a VM with room absorbs it. That
 * re-balances the whole fleet in one move, which whole-container moves cannot do, and costs
 * microseconds, so thousands of moves fit where one exact sub-solve would.
 *
 * Moves, each kept only when it lowers the cost (VM terms dominate: emptying a VM saves 9 or 20):
 * - drop a container whose load the tier's other containers can take;
 * - move a container back to a VM where its tier ran before (keeping costs 3, creating 4);
 * - trade: a container goes home while one of that VM's containers moves to the first one's VM or
 *   to its own home (a move into a full VM never fits alone);
 * - re-place a whole tier from nothing, in its fewest containers;
 * - relocate a VM: all its containers, sizes unchanged, to an idle VM (a new VM given up for an
 *   existing one, or a VM traded for one where its tiers ran before);
 * - empty a VM (lightest first): its containers' load goes to the tiers' other containers, and where
 *   that is not enough, into new containers on VMs in use (where the tier ran before first).
 * When none applies, a kick (a VM emptied whatever it costs, a container moved at random, or an idle
 * VM where tiers ran before reopened) and a new descent; the best layout seen is returned. The data
 * structure (containers, fluid sizes, augmenting paths) is `FluidLayout`, in fluid-layout.ts; the moves are `FluidMoves`, in fluid-moves.ts.
 */
/** Rounds without improvement per extra kick, and the most extra kicks (measured: the costs barely depend on them). */
const KICK_GROWTH = 30;
const MAX_EXTRA_KICKS = 3;

export function improveByContainerSearch(instance: AllocationInstance, start: Layout, options: ContainerSearchOptions): Layout {
  const state = new FluidMoves(instance, start);
  const random = seededRandom(options.seed);
  let best = state.snapshot();
  let bestCost = state.cost();
  const target = options.targetCost ?? -Infinity;
  // The last milliseconds are the permutation's (below).
  const searchUntilMs = options.deadlineMs - reassignmentReserveMs(instance.vms.length);
  const timeUp = () => Date.now() >= searchUntilMs;
  // A worse layout than the best is walked on from while within this much: plateaus and small steps
  // back are how the search leaves a local optimum.
  const slack = 2;
  let stall = 0;
  const rounds = options.maxRounds ?? Infinity;
  for (let round = 0; round < rounds && !timeUp() && bestCost > target; round++) {
    descend(state, random, timeUp);
    const cost = state.cost();
    if (cost < bestCost) {
      state.release(best);
      best = state.snapshot();
      bestCost = cost;
      stall = 0;
    } else {
      stall += 1;
      if (cost > bestCost + slack) state.restore(best);
    }
    if (timeUp() || bestCost <= target) break;
    // Kicks grow while no round improves: a deeper local optimum needs a longer jump out of it.
    const kicks = 1 + Math.floor(random() * (3 + Math.min(stall / KICK_GROWTH, MAX_EXTRA_KICKS)));
    for (let k = 0; k < kicks; k++) kick(state, random, options.tierKickShare ?? TIER_KICK_SHARE);
  }
  state.restore(best);
  const found = state.toLayout();
  // The best layout's VM contents permuted where that keeps more containers where they ran: many
  // VMs at once, which no move of one or two containers reaches.
  return reassignContents(instance, found, options.deadlineMs) ?? found;
}

/**
 * The current allocation carried over as it is, sizes fluid: every container that ran keeps running
 * (deleting one and creating another costs 5, keeping it 3), each resized by the same augmenting
 * paths to hold the plan, and new containers only for what those cannot carry: on VMs in use, then
 * on idle ones (existing before new). Undefined when even that gets stuck.
 */
export function currentFluidLayout(instance: AllocationInstance, random: () => number = seededRandom(1)): Layout | undefined {
  return fluidLayout(instance, priorContainers(instance, () => true), random);
}

/**
 * Every tier placed from nothing, largest first, by the same routing: a tier spills onto another VM
 * only when the VM it fills is full, so containers are few and large (most VMs end up hosting one or
 * two); where a tier ran before is preferred (keeping a container is cheaper than creating one).
 */
export function packedFluidLayout(instance: AllocationInstance, random: () => number = seededRandom(1)): Layout | undefined {
  return fluidLayout(instance, priorContainers(instance, (v, t) => mustKeep(instance, v, t)), random);
}

/**
 * The containers of `carried` (the answer to an earlier problem of the same fleet and tiers) kept,
 * with the containers that must stay, resized like the current allocation's in `currentFluidLayout`:
 * a planner's next plan differs little from its last, and neither does its best layout.
 */
export function carriedFluidLayout(instance: AllocationInstance, carried: Layout, random: () => number = seededRandom(1)): Layout | undefined {
  const containers = priorContainers(instance, (v, t) => mustKeep(instance, v, t));
  carried.forEach((hosted, v) => {
    if (v >= instance.vms.length) return;
    for (const [t, r] of hosted) if (!mustKeep(instance, v, t) && mayHost(instance, v, t)) containers.push({ v, t, r });
  });
  return fluidLayout(instance, containers, random);
}

type Container = { v: number; t: number; r: Resources };

function priorContainers(instance: AllocationInstance, chosen: (v: number, t: number) => boolean): Container[] {
  return instance.vms.flatMap((vm, v) => [...vm.prior].map(([t, r]) => ({ v, t, r }))).filter(({ v, t }) => mayHost(instance, v, t) && chosen(v, t));
}

function fluidLayout(instance: AllocationInstance, containers: Container[], random: () => number): Layout | undefined {
  const start: Layout = instance.vms.map(() => new Map());
  const keptOn: Container[][] = instance.tiers.map(() => []);
  // Largest containers first: when a tier must lose some (over its cap, or shrunk below 1 each), the small ones go.
  // Containers to keep come first and always (from nothing too); none where the tier may not run.
  const pinned = (v: number, t: number) => (mustKeep(instance, v, t) ? 1 : 0);
  const carried = containers.slice()
    .sort((a, b) => pinned(b.v, b.t) - pinned(a.v, a.t) || b.r.cpu_cores + b.r.mem_units / 4 - (a.r.cpu_cores + a.r.mem_units / 4));
  for (const container of carried) {
    const tier = instance.tiers[container.t];
    if (keptOn[container.t].length < Math.min(tier.maxContainers, tier.cpu, tier.mem)) keptOn[container.t].push(container);
  }
  // Each kept container shrinks in proportion where its tier shrinks and keeps its size where the tier
  // grows: every VM then still holds what it holds now, and routing only has growth to place.
  instance.tiers.forEach((tier, t) => {
    if (keptOn[t].length === 0) return;
    const held = keptOn[t].reduce((sum, { r }) => [sum[0] + r.cpu_cores, sum[1] + r.mem_units], [0, 0]);
    const sizes = keptOn[t].map(({ r }) =>
      [Math.max(1, Math.floor(r.cpu_cores * Math.min(1, tier.cpu / held[0]))), Math.max(1, Math.floor(r.mem_units * Math.min(1, tier.mem / held[1])))]);
    for (const [k, demand] of [[0, tier.cpu], [1, tier.mem]]) {
      let excess = sizes.reduce((sum, x) => sum + x[k], 0) - demand;
      for (let i = 0; excess > 0; i = (i + 1) % sizes.length) {
        if (sizes[i][k] > 1) {
          sizes[i][k] -= 1;
          excess -= 1;
        }
      }
    }
    keptOn[t].forEach(({ v }, i) => start[v].set(t, { cpu_cores: sizes[i][0], mem_units: sizes[i][1] }));
  });
  const state = new FluidMoves(instance, start);
  const order = instance.tiers.map((_, t) => t)
    .sort((a, b) => instance.tiers[a].maxContainers - instance.tiers[b].maxContainers || instance.tiers[b].cpu - instance.tiers[a].cpu);
  for (const t of order) {
    const placed = () => state.place(t, state.missing(t), random, true);
    if (state.attempt(placed)) continue;
    // A capped tier pushes uncapped neighbours off its VMs rather than move (moving a not-scalable
    // one costs 100); they come later in the order and find room elsewhere.
    if (Number.isFinite(instance.tiers[t].maxContainers) && state.attempt(() => state.evictUncappedAround(t, placed))) continue;
    // Its containers cannot hold it: placed afresh.
    if (!state.replaceTier(t, random)) return undefined;
  }
  return state.toLayout();
}

function descend(state: FluidMoves, random: () => number, timeUp: () => boolean): void {
  const tryMove = (move: () => boolean): boolean => state.trial(move);
  let improved = true;
  while (improved && !timeUp()) {
    improved = false;
    // Fewer containers first: after a kick opened room somewhere, this is what fills it.
    for (const v of state.usedVms()) {
      for (const t of state.tiersOn(v)) {
        if (timeUp()) return;
        if (state.containersOf(t) >= 2 && state.hasContainer(v, t) && tryMove(() => state.dropContainer(v, t))) improved = true;
      }
    }
    for (const v of state.usedVms()) {
      for (const t of state.tiersOn(v)) {
        if (state.isPrior(v, t) || !state.hasContainer(v, t)) continue;
        for (const home of state.homesOf(t)) {
          if (state.hasContainer(home, t) || state.containersOn(home) === 0) continue;
          if (tryMove(() => state.moveContainer(v, t, home, random))) {
            improved = true;
            break;
          }
        }
      }
    }
    // Two containers trade VMs, one of them (or both) moving to where its tier ran before: each VM
    // frees the room the other needs, which a move alone into a full VM never has.
    for (const x of state.usedVms()) {
      for (const a of state.tiersOn(x)) {
        if (timeUp()) return;
        if (state.isPrior(x, a) || !state.hasContainer(x, a)) continue;
        for (const y of state.homesOf(a)) {
          if (state.containersOn(y) === 0 || state.hasContainer(y, a) || !state.hasContainer(x, a)) continue;
          let traded = false;
          for (const b of state.tiersOn(y)) {
            if (b === a || state.isPrior(y, b)) continue;
            // b goes to x (a swap), or on to a VM where it ran before (a chain of two moves home).
            const targets = [x, ...state.homesOf(b).filter((z) => z !== y && state.containersOn(z) > 0)];
            for (const z of targets) {
              if (state.hasContainer(z, b) || !state.hasContainer(x, a) || !state.hasContainer(y, b)) continue;
              if (tryMove(() => state.tradeContainers(x, a, y, b, z, random))) {
                improved = true;
                traded = true;
                break;
              }
            }
            if (traded) break;
          }
          if (traded) break;
        }
      }
    }
    // A tier re-placed from nothing: its own fewest containers, where it has most room or ran before.
    for (let t = 0; t < state.T; t++) {
      if (timeUp()) return;
      if (state.containersOf(t) >= 2 && tryMove(() => state.replaceTier(t, random, false))) improved = true;
    }
    // A VM's containers moved whole to an idle VM: a new VM given up for an existing one (20 against
    // 9 more), or a VM traded for one where its tiers ran before (kept containers cost less).
    for (const v of state.usedVms()) {
      if (timeUp()) return;
      for (const w of state.idleVmsFor(v, 4)) {
        if (tryMove(() => state.relocateVm(v, w))) {
          improved = true;
          break;
        }
      }
    }
    // Lightest VMs first: the likeliest to empty.
    for (const v of state.usedVms().sort((a, b) => state.load(a) - state.load(b))) {
      if (timeUp()) return;
      if (state.containersOn(v) > 0 && tryMove(() => state.emptyVm(v, random))) improved = true;
    }
  }
}

function kick(state: FluidMoves, random: () => number, tierShare: number): void {
  const used = state.usedVms();
  if (used.length < 2) return;
  for (let tries = 0; tries < 5; tries++) {
    const dice = random();
    if (dice < tierShare) {
      // A tier re-placed from nothing, in its fewest containers, whatever it costs.
      const spread = Array.from({ length: state.T }, (_, t) => t).filter((t) => state.containersOf(t) >= 2);
      if (spread.length > 0 && state.attempt(() => state.replaceTier(spread[Math.floor(random() * spread.length)], random, true))) return;
    } else if (dice < tierShare + (1 - tierShare) * 0.35) {
      // Empty one of the lighter VMs whatever it costs.
      used.sort((a, b) => state.load(a) - state.load(b));
      const v = used[Math.floor(random() * Math.ceil(used.length / 2))];
      if (state.attempt(() => state.emptyVm(v, random))) return;
    } else if (dice < tierShare + (1 - tierShare) * 0.7) {
      const v = used[Math.floor(random() * used.length)];
      const tiers = state.tiersOn(v);
      const t = tiers[Math.floor(random() * tiers.length)];
      const to = used[Math.floor(random() * used.length)];
      if (to !== v && !state.hasContainer(to, t) && state.attempt(() => state.moveContainer(v, t, to, random))) return;
    } else {
      // Open an idle VM where tiers ran before: the room lets the next descent merge containers.
      const idle = state.idleHomes();
      if (idle.length > 0 && state.attempt(() => state.reopen(idle[Math.floor(random() * idle.length)]))) return;
    }
  }
}

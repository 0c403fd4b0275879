import { buildInstance, isValidLayout, Layout, layoutCost, minimumNewVms } from '../../src/allocator/model/allocation-instance';
import { cheapestLayout, searchStarts } from '../../src/allocator/search/search-starts';
import { FluidMoves } from '../../src/allocator/search/fluid-moves';
import { seededRandom } from '../../src/allocator/search/seeded-random';
import { UndoLog } from '../../src/allocator/search/undo-log';
import { generateFleetProblem, generateScaleOutProblem } from '../support/allocation-problems';

describe('the undo log', () => {
  it('puts back what a mark saw written, newest first, the same entry written twice included', () => {
    const a = Int32Array.from([1, 2, 3]);
    const b = Int32Array.from([10, 20]);
    const log = new UndoLog([a, b]);
    log.set(0, 0, 5); // no mark open: kept for good
    log.open();
    log.set(0, 1, 7);
    log.set(0, 1, 8);
    log.set(1, 1, 99);
    expect([...a, ...b]).toEqual([5, 8, 3, 10, 99]);
    log.undo();
    expect([...a, ...b]).toEqual([5, 2, 3, 10, 20]);
    expect(log.recording).toBe(false);
  });

  it('keeps an inner mark\'s writes for the outer one to undo, and only the outer one\'s end forgets them', () => {
    const a = new Int32Array(3);
    const log = new UndoLog([a]);
    log.open();
    log.set(0, 0, 1);
    log.open();
    log.set(0, 1, 2);
    log.keep();
    log.open();
    log.set(0, 2, 3);
    log.undo();
    expect([...a]).toEqual([1, 2, 0]);
    log.undo();
    expect([...a]).toEqual([0, 0, 0]);
    log.open();
    log.set(0, 0, 4);
    log.keep();
    expect(log.recording).toBe(false);
    expect(() => log.undo()).toThrow(/without an open mark/);
    expect([...a]).toEqual([4, 0, 0]);
  });

  it('grows past its first buffer', () => {
    const a = new Int32Array(10);
    const log = new UndoLog([a]);
    log.open();
    for (let k = 0; k < 50_000; k++) log.set(0, k % 10, k);
    log.undo();
    expect([...a]).toEqual(new Array(10).fill(0));
  });
});

describe('moves taken back', () => {
  const cases = [
    ['fleet 20 × 10', generateFleetProblem({ vms: 20, tiers: 10, seed: 2 })],
    ['scale-out 20 × 20', generateScaleOutProblem({ vms: 20, tiers: 20, seed: 3 })],
  ] as const;

  it.each(cases)('%s: a move that fails or costs more leaves the layout and cost as they were; a kept one is valid and costed right', (_name, problem) => {
    const instance = buildInstance(problem, minimumNewVms(problem));
    const start = cheapestLayout(instance, searchStarts(instance, Date.now() + 10_000))!;
    const state = new FluidMoves(instance, start);
    const random = seededRandom(7);
    const show = (layout: Layout) => layout.map((hosted) => [...hosted].sort(([x], [y]) => x - y));
    let kept = 0;
    for (let step = 0; step < 400; step++) {
      const before = show(state.toLayout());
      const cost = state.cost();
      const used = state.usedVms();
      const v = used[Math.floor(random() * used.length)];
      const tiers = state.tiersOn(v);
      const t = tiers[Math.floor(random() * tiers.length)];
      const to = Math.floor(random() * state.V);
      const moves = [
        () => state.emptyVm(v, random),
        () => state.dropContainer(v, t),
        () => to !== v && !state.hasContainer(to, t) && state.moveContainer(v, t, to, random),
        () => state.replaceTier(t, random, true),
      ];
      const move = moves[step % moves.length];
      if (step % 3 === 0) {
        // Whatever it did, a move reported as failed is taken back.
        state.attempt(() => {
          move();
          return false;
        });
        expect(show(state.toLayout())).toEqual(before);
        expect(state.cost()).toBe(cost);
      } else if (state.trial(move)) {
        kept += 1;
        expect(state.cost()).toBeLessThan(cost);
      } else {
        expect(show(state.toLayout())).toEqual(before);
        expect(state.cost()).toBe(cost);
      }
      // Kicks are kept whatever they cost: the state must stay a valid flow.
      if (step % 5 === 0) state.attempt(moves[(step / 5) % moves.length]);
      expect(isValidLayout(instance, state.toLayout())).toBe(true);
      expect(state.cost()).toBe(layoutCost(instance, state.toLayout()));
    }
    expect(kept).toBeGreaterThan(0);
  });
});

import { buildInstance, minimumNewVms } from '../../src/allocator/model/allocation-instance';
import { buildAllocationMip } from '../../src/allocator/exact/allocation-mip';
import { loadSolver, solveMip } from '../../src/allocator/exact/highs-engine';
import { generatePropertyProblem, PROPERTY_FAMILIES } from '../support/allocation-problems';

/**
 * The whole model carries a row the problem does not state: at least as many VMs in use as the
 * demand and the widest tier need. It must cut away no allocation (the optimum is the same with and
 * without it) and it must tighten the relaxation somewhere, or it is dead weight.
 */
describe('the VM-count row of the whole model', () => {
  beforeAll(() => loadSolver(), 60_000);

  it('leaves every optimum as it is and lifts the relaxation on some fleets', async () => {
    let lifted = 0;
    let compared = 0;
    for (const family of PROPERTY_FAMILIES) {
      for (let seed = 1; seed <= 12; seed++) {
        const problem = generatePropertyProblem(family, seed, { maxVms: 6, maxTiers: 4 });
        const plan = Object.fromEntries(Object.entries(problem.plan).filter(([, r]) => r.cpu_cores > 0 || r.mem_units > 0));
        const instance = buildInstance({ ...problem, plan }, minimumNewVms({ ...problem, plan }));
        const [withRow, without] = [true, false].map((vmCountRow) => buildAllocationMip(instance, { vmCountRow }));
        const [optimumWith, optimumWithout] = await Promise.all([withRow, without].map((mip) => solveMip(mip.model, { timeLimitMs: 20_000 })));
        expect([family, seed, optimumWith.status]).toEqual([family, seed, optimumWithout.status]);
        if (optimumWith.status !== 'optimal') continue;
        compared += 1;
        expect([family, seed, Math.round(optimumWith.objective!)]).toEqual([family, seed, Math.round(optimumWithout.objective!)]);
        const relax = (mip: typeof withRow) => ({ ...mip.model, columns: mip.model.columns.map((c) => ({ ...c, integer: false })) });
        const [lpWith, lpWithout] = await Promise.all([withRow, without].map((mip) => solveMip(relax(mip), { timeLimitMs: 20_000 })));
        expect(lpWith.objective!).toBeGreaterThanOrEqual(lpWithout.objective! - 1e-6);
        if (lpWith.objective! > lpWithout.objective! + 1e-6) lifted += 1;
      }
    }
    expect(compared).toBeGreaterThan(40);
    expect(lifted).toBeGreaterThan(0);
  }, 120_000);
});

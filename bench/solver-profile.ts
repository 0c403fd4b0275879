import { buildInstance, currentLayout, emptyLayout, isValidLayout, Layout, layoutCost, maximumUsefulNewVms, minimumNewVms } from '../src/allocator/model/allocation-instance';
import { buildAllocationMip } from '../src/allocator/exact/allocation-mip';
import { solveInstanceExactly } from '../src/allocator/exact/exact-solve';
import { greedyLayout, packedLayout } from '../src/allocator/search/greedy-placement';
import { solveMip } from '../src/allocator/exact/highs-engine';
import { improveByMoves } from '../src/allocator/search/local-moves';
import { lowerBound } from '../src/allocator/model/lower-bound';
import { currentFluidLayout, improveByContainerSearch, packedFluidLayout } from '../src/allocator/search/container-search';
import { warmUpAllocator } from '../src/allocator';
import { generateFleetProblem } from '../test/support/allocation-problems';

/** Where an allocation's time goes, phase by phase, on the benchmark's fleets (a development aid). */
async function main(): Promise<void> {
  await warmUpAllocator();
  const sizes = (process.env.SIZES ?? '10x10').split(',').map((s) => s.split('x').map(Number));
  for (const [vms, tiers] of sizes) {
    for (let seed = 1; seed <= Number(process.env.SEEDS ?? 3); seed++) {
      const problem = generateFleetProblem({ vms, tiers, seed });
      const t = () => process.hrtime.bigint();
      const ms = (a: bigint) => (Number(t() - a) / 1e6).toFixed(1);
      const k = minimumNewVms(problem);
      const inst = buildInstance(problem, maximumUsefulNewVms(problem));
      let a = t();
      const g = greedyLayout(inst, currentLayout(inst)) ?? greedyLayout(inst, emptyLayout(inst));
      const gms = ms(a);
      a = t();
      const p = packedLayout(inst);
      const pms = ms(a);
      a = t();
      const gm = g ? improveByMoves(inst, g, Date.now() + 1000) : undefined;
      const pm = p ? improveByMoves(inst, p, Date.now() + 1000) : undefined;
      const mms = ms(a);
      const used = (l?: Layout) => (l ? l.filter((h) => h.size > 0).length : -1);
      const conts = (l?: Layout) => (l ? l.reduce((s, h) => s + h.size, 0) : -1);
      const c = (l?: Layout) => (l && isValidLayout(inst, l) ? layoutCost(inst, l) : -1);
      a = t();
      const lb = lowerBound(inst);
      const lbms = ms(a);
      const narrow = buildInstance(problem, k);
      a = t();
      const mip = buildAllocationMip(narrow);
      const bms = ms(a);
      const relaxed = { ...mip.model, columns: mip.model.columns.map((col) => ({ ...col, integer: false })) };
      a = t();
      const lp = await solveMip(relaxed, { timeLimitMs: 5000 });
      const lpms = ms(a);
      console.log(`${vms}x${tiers} s${seed}: k=${k} greedy ${c(g)} (${used(g)} vms ${conts(g)} ctr, ${gms} ms) packed ${c(p)} (${used(p)}/${conts(p)}, ${pms} ms) moves: ${c(gm)} (${used(gm)}/${conts(gm)}) ${c(pm)} (${used(pm)}/${conts(pm)}) ${mms} ms; lb ${lb} (${lbms} ms); build ${bms} ms; LP ${lp.objective?.toFixed(2)} ${lpms} ms`);
      a = t();
      const fl = currentFluidLayout(inst);
      const fms = ms(a);
      const fm = fl ? improveByMoves(inst, fl, Date.now() + 1000) : undefined;
      console.log(`   fluid current: ${c(fl)} (${used(fl)}/${conts(fl)}) ${fms} ms; moves ${c(fm)} (${used(fm)}/${conts(fm)})`);
      const pf = packedFluidLayout(inst);
      const pfm = pf ? improveByMoves(inst, pf, Date.now() + 1000) : undefined;
      console.log(`   fluid packed: ${c(pf)} (${used(pf)}/${conts(pf)}); moves ${c(pfm)} (${used(pfm)}/${conts(pfm)})`);
      const starts = [gm, pm, fl, fm, pf, pfm].filter((l): l is Layout => l !== undefined && isValidLayout(inst, l));
      const first = starts.reduce((x, y) => (layoutCost(inst, y) < layoutCost(inst, x) ? y : x));
      for (const budget of (process.env.BUDGETS ?? '20,80,800').split(',').map(Number)) {
        a = t();
        const cs = improveByContainerSearch(inst, first, { deadlineMs: Date.now() + budget, seed: 1, targetCost: lb });
        let multi = first;
        for (const st of starts) {
          const r = improveByContainerSearch(inst, st, { deadlineMs: Date.now() + budget / starts.length, seed: 1, targetCost: lb });
          if (layoutCost(inst, r) < layoutCost(inst, multi)) multi = r;
        }
        console.log(`   multi-start ${budget} ms: ${c(multi)} (${used(multi)}/${conts(multi)})`);
        console.log(`   container search ${budget} ms: ${c(cs)} (${used(cs)}/${conts(cs)}) in ${ms(a)} ms valid ${isValidLayout(inst, cs)}`);
        if (process.env.POLISH) {
          const k2 = Math.max(k, cs.filter((h, v) => h.size > 0 && inst.vms[v].isNew).length);
          const nar = buildInstance(problem, k2);
          const start = [...cs.slice(0, inst.existingVmCount), ...cs.slice(inst.existingVmCount).filter((h) => h.size > 0)];
          while (start.length < nar.vms.length) start.push(new Map());
          for (const limit of process.env.POLISH.split(',').map(Number)) {
            a = t();
            const out = await solveInstanceExactly(nar, { timeLimitMs: limit, start });
            console.log(`     polish ${limit} ms: ${out.status} ${out.layout ? layoutCost(nar, out.layout) : '-'} bound ${out.bound.toFixed(1)} in ${ms(a)} ms`);
          }
        }
      }
      if (process.env.EXACT && vms * tiers <= 400) {
        for (const limit of [100, 300, 1000, 3000]) {
          a = t();
          const out = await solveInstanceExactly(narrow, { timeLimitMs: limit, start: undefined });
          console.log(`   exact ${limit} ms: ${out.status} ${out.layout ? layoutCost(narrow, out.layout) : '-'} bound ${out.bound.toFixed(1)} in ${ms(a)} ms`);
          if (out.status === 'optimal') break;
        }
      }
    }
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});

import { CPU, FluidLayout, MEM } from './fluid-layout';

/**
 * The container search's moves on a `FluidLayout`: containers dropped, moved, traded, tiers placed
 * again, VMs emptied, relocated or reopened. Each either succeeds or returns false with the state
 * spoiled (`attempt` and `trial` put it back); sizes always follow by the augmenting paths.
 */
export class FluidMoves extends FluidLayout {
  /** Removes every container of v, their load carried elsewhere. False (state spoiled: `attempt` puts it back) when it cannot. */
  emptyVm(v: number, random: () => number): boolean {
    const tiers = this.tiersOn(v);
    if (tiers.some((t) => !this.removable(v, t))) return false;
    const need = tiers.map((t) => this.removePair(v, t));
    this.banned[v] = 1;
    try {
      // Tiers that may not be spread, then the larger loads, go first: they have the fewest ways out.
      const order = tiers.map((_, i) => i).sort((a, b) => this.instance.tiers[tiers[a]].maxContainers - this.instance.tiers[tiers[b]].maxContainers
        || need[b][0] + need[b][1] / 4 - (need[a][0] + need[a][1] / 4));
      for (const i of order) if (!this.place(tiers[i], need[i], random)) return false;
      return true;
    } finally {
      this.banned[v] = 0;
    }
  }

  /** Removes tier t's container on v when the tier's other containers (and the paths through them) take its load. */
  dropContainer(v: number, t: number): boolean {
    if (!this.removable(v, t)) return false;
    // v stays open: the room the container leaves may be taken by other tiers there, making room elsewhere.
    const need = this.removePair(v, t);
    return this.route(0, t, need[0]) === need[0] && this.route(1, t, need[1]) === need[1];
  }

  /** Existing VMs that host nothing now but hosted planned tiers before. */
  idleHomes(): number[] {
    const idle: number[] = [];
    for (let v = 0; v < this.V; v++) if (this.hosted[v] === 0 && this.instance.vms[v].prior.size > 0) idle.push(v);
    return idle;
  }

  /** Puts back a 1-core, 1-unit container of each tier that ran on v (where its cap allows), taken from its others. */
  reopen(v: number): boolean {
    if (this.instance.maxVms !== undefined && this.usedVms().length >= this.instance.maxVms) return false;
    let added = false;
    for (const t of this.instance.vms[v].prior.keys()) {
      if (this.count[t] >= this.instance.tiers[t].maxContainers) continue;
      if (this.attempt(() => this.addPair(v, t, [0, 0]))) added = true;
    }
    return added;
  }

  /**
   * Removes containers of uncapped tiers from the VMs where tier t runs, largest first, one at a
   * time until `placed` succeeds. False (state spoiled: `attempt` puts it back) when even all of them are not enough.
   */
  evictUncappedAround(t: number, placed: () => boolean): boolean {
    const evictable: Array<[number, number]> = [];
    for (let v = 0; v < this.V; v++) {
      if (!this.has[v * this.T + t]) continue;
      for (const other of this.tiersOn(v)) {
        if (other !== t && !Number.isFinite(this.instance.tiers[other].maxContainers) && this.removable(v, other)) evictable.push([v, other]);
      }
    }
    const weight = ([v, o]: [number, number]) => this.size[0][v * this.T + o] / this.capacity[0][v] + this.size[1][v * this.T + o] / this.capacity[1][v];
    evictable.sort((a, b) => weight(b) - weight(a));
    for (const [v, other] of evictable) {
      this.removePair(v, other);
      if (this.attempt(placed)) return true;
    }
    return false;
  }

  /**
   * Every container of tier t removed, the tier placed again from nothing: a new first container on
   * a VM in use with most room, else on an idle VM, the rest routed (VMs may be opened).
   */
  replaceTier(t: number, random: () => number, mayOpen = true): boolean {
    let keeps = false;
    for (let v = 0; v < this.V; v++) {
      if (!this.has[v * this.T + t]) continue;
      if (this.removable(v, t)) this.removePair(v, t);
      else keeps = true;
    }
    // Containers to keep stay; the rest of the tier goes through them and wherever it finds room.
    if (keeps) return this.place(t, this.missing(t), random, mayOpen);
    const demand: [number, number] = [this.instance.tiers[t].cpu, this.instance.tiers[t].mem];
    const room = (v: number) => Math.min(this.free[0][v] / demand[0], this.free[1][v] / demand[1]) + (this.prior[v * this.T + t] ? 1 : 0);
    const used = this.usedVms().filter((v) => !this.banned[v]).sort((a, b) => room(b) - room(a)).slice(0, 6);
    for (const v of [...used, ...(mayOpen ? this.idleVmToOpen(demand, t) : [])]) {
      const need: [number, number] = [demand[0], demand[1]];
      if (this.attempt(() => this.addPair(v, t, need) && this.place(t, need, random, mayOpen))) return true;
    }
    return false;
  }

  /**
   * Every container of v moves whole, sizes unchanged, to the idle VM w: a new VM given up for an
   * existing one, or a VM traded for one where its tiers ran before. False (state unchanged) when w
   * lacks the room or may not host one of them, or v keeps a container.
   */
  relocateVm(v: number, w: number): boolean {
    const { T } = this;
    if (v === w || this.hosted[v] === 0 || this.hosted[w] !== 0 || this.banned[w]) return false;
    if (this.capacity[CPU][v] - this.free[CPU][v] > this.free[CPU][w] || this.capacity[MEM][v] - this.free[MEM][v] > this.free[MEM][w]) return false;
    const tiers = this.tiersOn(v);
    if (tiers.some((t) => !this.allowed[w * T + t] || this.pinned[v * T + t])) return false;
    for (const t of tiers) {
      const [cpu, mem] = this.removePair(v, t);
      this.insertPair(w, t, cpu, mem);
    }
    return true;
  }

  /** Idle VMs that could take v's containers whole: where its tiers ran before first, existing before new. */
  idleVmsFor(v: number, most: number): number[] {
    const tiers = this.tiersOn(v);
    const homes = (w: number) => tiers.reduce((n, t) => n + this.prior[w * this.T + t], 0);
    const idle: number[] = [];
    for (let w = 0; w < this.V; w++) {
      if (w === v || this.hosted[w] !== 0 || this.banned[w]) continue;
      if (this.capacity[CPU][v] - this.free[CPU][v] > this.free[CPU][w] || this.capacity[MEM][v] - this.free[MEM][v] > this.free[MEM][w]) continue;
      idle.push(w);
    }
    const isNew = (w: number) => (this.instance.vms[w].isNew ? 1 : 0);
    idle.sort((a, b) => homes(b) - homes(a) || isNew(a) - isNew(b));
    return idle.slice(0, most);
  }

  /** Tier a's container moves from x to y while tier b's moves from y to z; the rest of their loads routed. */
  tradeContainers(x: number, a: number, y: number, b: number, z: number, random: () => number): boolean {
    if (!this.removable(x, a) || !this.removable(y, b)) return false;
    const needA = this.removePair(x, a);
    const needB = this.removePair(y, b);
    return this.addPair(y, a, needA) && this.addPair(z, b, needB) && this.place(a, needA, random) && this.place(b, needB, random);
  }

  /** Tier t's container moves from `from` to `to` (created there with at least 1 of each, the rest routed). */
  moveContainer(from: number, t: number, to: number, random: () => number): boolean {
    if (!this.removable(from, t)) return false;
    const need = this.removePair(from, t);
    if (!this.addPair(to, t, need)) return false;
    return this.place(t, need, random);
  }
}

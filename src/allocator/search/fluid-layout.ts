import { AllocationInstance, Layout, mayHost, mustKeep, vmOwnCost } from '../model/allocation-instance';
import { COST } from '../model/cost-weights';
import { UndoLog } from './undo-log';

export interface Snapshot {
  total: number;
  has: Int32Array;
  vmsOf: Int32Array;
  tiersOf: Int32Array;
  size: [Int32Array, Int32Array];
  free: [Int32Array, Int32Array];
  count: Int32Array;
  hosted: Int32Array;
}

/** Resource indices of the per-resource arrays. */
export const CPU = 0;
export const MEM = 1;
export type Resource = typeof CPU | typeof MEM;

/** The arrays of the state, as the undo log numbers them (sizes and free room: one per resource). */
const HAS = 0;
const VMS_OF = 1;
const TIERS_OF = 2;
const SIZE = [3, 4] as const;
const FREE = [5, 6] as const;
const COUNT = 7;
const HOSTED = 8;

/**
 * Containers as a V × T matrix, each resource's sizes a feasible flow: the data structure of the
 * container search, and the augmenting paths (`place`, `route`) that keep the flows feasible as
 * containers come and go. The moves built on them are `FluidMoves` (fluid-moves.ts). Moves either
 * succeed or return false with the state spoiled; `attempt` runs one and puts the state back unless
 * it succeeded, `trial` unless it also lowered the cost. Both take back the move's own writes (an
 * undo log), not a copy of the whole state: `snapshot` is for states kept longer (the best so far).
 */
export class FluidLayout {
  readonly V: number;
  readonly T: number;
  protected has: Int32Array;
  protected size: [Int32Array, Int32Array];
  protected free: [Int32Array, Int32Array];
  /** Containers per tier. */
  protected count: Int32Array;
  /** Containers per VM. */
  protected hosted: Int32Array;
  protected total = 0;
  protected readonly pool: Snapshot[] = [];
  /** Every write to the state's arrays below goes through it (but the first `fill`). */
  protected readonly undo: UndoLog;
  /** Adjacency, for the searches: the VMs of tier t are vmsOf[t·V … t·V + count[t]), the tiers of v likewise. */
  protected vmsOf: Int32Array;
  protected tiersOf: Int32Array;
  protected readonly capacity: [Int32Array, Int32Array];
  protected readonly prior: Uint8Array;
  protected readonly homes: number[][];
  protected readonly banned: Uint8Array;
  /** Per (VM, tier): the tier may run there (`placeable`); its container there must stay (`keep`). */
  protected readonly allowed: Uint8Array;
  protected readonly pinned: Uint8Array;
  // Breadth-first search scratch space.
  /** Marked seen by the search numbered `searchStamp` (no clearing between searches). */
  protected readonly seenVm: Int32Array;
  protected readonly seenTier: Int32Array;
  protected searchStamp = 0;
  protected readonly viaTier: Int32Array;
  protected readonly viaVm: Int32Array;
  protected readonly queue: Int32Array;

  constructor(protected readonly instance: AllocationInstance, layout: Layout) {
    const V = (this.V = instance.vms.length);
    const T = (this.T = instance.tiers.length);
    this.has = new Int32Array(V * T);
    this.vmsOf = new Int32Array(V * T);
    this.tiersOf = new Int32Array(V * T);
    this.size = [new Int32Array(V * T), new Int32Array(V * T)];
    this.capacity = [Int32Array.from(instance.vms, (vm) => vm.cpu), Int32Array.from(instance.vms, (vm) => vm.mem)];
    this.free = [Int32Array.from(this.capacity[0]), Int32Array.from(this.capacity[1])];
    this.count = new Int32Array(T);
    this.hosted = new Int32Array(V);
    this.prior = new Uint8Array(V * T);
    this.homes = instance.tiers.map(() => []);
    instance.vms.forEach((vm, v) => {
      for (const t of vm.prior.keys()) {
        this.prior[v * T + t] = 1;
        this.homes[t].push(v);
      }
    });
    this.fill(layout);
    const logged: Int32Array[] = [];
    logged[HAS] = this.has;
    logged[VMS_OF] = this.vmsOf;
    logged[TIERS_OF] = this.tiersOf;
    for (const r of [CPU, MEM] as const) {
      logged[SIZE[r]] = this.size[r];
      logged[FREE[r]] = this.free[r];
    }
    logged[COUNT] = this.count;
    logged[HOSTED] = this.hosted;
    // Array.from: filled out of order, the list would stay a holey array, slower to index on every write.
    this.undo = new UndoLog(Array.from(logged));
    this.banned = new Uint8Array(V);
    this.allowed = new Uint8Array(V * T);
    this.pinned = new Uint8Array(V * T);
    for (let v = 0; v < V; v++) {
      for (let t = 0; t < T; t++) {
        this.allowed[v * T + t] = mayHost(instance, v, t) ? 1 : 0;
        this.pinned[v * T + t] = mustKeep(instance, v, t) ? 1 : 0;
      }
    }
    this.seenVm = new Int32Array(V);
    this.seenTier = new Int32Array(T);
    this.viaTier = new Int32Array(V);
    this.viaVm = new Int32Array(T);
    this.queue = new Int32Array(T + 1);
    this.total = this.computeCost();
  }

  protected fill(layout: Layout): void {
    const { V, T } = this;
    layout.forEach((hosted, v) => {
      for (const [t, r] of hosted) {
        const i = v * T + t;
        this.has[i] = 1;
        this.vmsOf[t * V + this.count[t]] = v;
        this.tiersOf[v * T + this.hosted[v]] = t;
        this.size[0][i] = r.cpu_cores;
        this.size[1][i] = r.mem_units;
        this.free[0][v] -= r.cpu_cores;
        this.free[1][v] -= r.mem_units;
        this.count[t] += 1;
        this.hosted[v] += 1;
      }
    });
  }

  /** The state, copied into a buffer of the pool (hand it back with `release` once done with it). */
  snapshot(): Snapshot {
    const live = this.live();
    const s = this.pool.pop();
    if (!s) {
      return {
        total: this.total,
        has: live.has.slice(),
        vmsOf: live.vmsOf.slice(),
        tiersOf: live.tiersOf.slice(),
        size: [live.size[0].slice(), live.size[1].slice()],
        free: [live.free[0].slice(), live.free[1].slice()],
        count: live.count.slice(),
        hosted: live.hosted.slice(),
      };
    }
    copyState(s, live);
    return s;
  }

  release(s: Snapshot): void {
    this.pool.push(s);
  }

  /** The state set back to `s`: between moves only (no `attempt` or `trial` running). */
  restore(s: Snapshot): void {
    if (this.undo.recording) throw new Error('a snapshot restored in the middle of a move');
    copyState(this.live(), s);
    this.total = s.total;
  }

  /** The state's own arrays, by reference, and its cost. */
  protected live(): Snapshot {
    const { total, has, vmsOf, tiersOf, size, free, count, hosted } = this;
    return { total, has, vmsOf, tiersOf, size, free, count, hosted };
  }

  hasContainer(v: number, t: number): boolean {
    return this.has[v * this.T + t] === 1;
  }

  /** How many containers tier t has. */
  containersOf(t: number): number {
    return this.count[t];
  }

  /** How many containers VM v hosts. */
  containersOn(v: number): number {
    return this.hosted[v];
  }

  /** Runs a move and keeps it only when it succeeded; otherwise the state is put back as it was. */
  attempt(move: () => boolean): boolean {
    const total = this.total;
    this.undo.open();
    const done = move();
    if (done) this.undo.keep();
    else {
      this.undo.undo();
      this.total = total;
    }
    return done;
  }

  /** Runs a move and keeps it only when it succeeded and lowered the cost; otherwise the state is put back as it was. */
  trial(move: () => boolean): boolean {
    const before = this.total;
    return this.attempt(() => move() && this.total < before);
  }

  /** The objective of SPEC §3, as `vmCost` sums it; kept up to date as containers come and go. */
  cost(): number {
    return this.total;
  }

  protected computeCost(): number {
    const { T, instance } = this;
    let cost = 0;
    for (let v = 0; v < this.V; v++) {
      cost += this.vmTerm(v);
      for (let t = 0, i = v * T; t < T; t++, i++) {
        if (this.has[i]) cost += this.prior[i] ? COST.containerKept : COST.containerCreated;
        else if (this.prior[i]) cost += instance.tiers[t].deleteWeight;
      }
    }
    return cost;
  }

  protected vmTerm(v: number): number {
    return vmOwnCost(this.instance.vms[v], this.hosted[v] > 0);
  }

  /** What having tier t's container on v adds to the cost, against not having it. */
  protected pairTerm(i: number, t: number): number {
    return this.prior[i] ? COST.containerKept - this.instance.tiers[t].deleteWeight : COST.containerCreated;
  }

  usedVms(): number[] {
    const used: number[] = [];
    for (let v = 0; v < this.V; v++) if (this.hosted[v] > 0) used.push(v);
    return used;
  }

  tiersOn(v: number): number[] {
    const tiers: number[] = [];
    for (let t = 0; t < this.T; t++) if (this.has[v * this.T + t]) tiers.push(t);
    return tiers;
  }

  homesOf(t: number): number[] {
    return this.homes[t];
  }

  isPrior(v: number, t: number): boolean {
    return this.prior[v * this.T + t] === 1;
  }

  load(v: number): number {
    return Math.max(1 - this.free[0][v] / this.capacity[0][v], 1 - this.free[1][v] / this.capacity[1][v]);
  }

  /** Whether tier t's container on v may be removed (it is not one to keep). */
  removable(v: number, t: number): boolean {
    return this.pinned[v * this.T + t] === 0;
  }

  /** What tier t still lacks of its plan, per resource. */
  missing(t: number): [number, number] {
    const tier = this.instance.tiers[t];
    const need: [number, number] = [tier.cpu, tier.mem];
    for (let v = 0; v < this.V; v++) {
      const i = v * this.T + t;
      if (!this.has[i]) continue;
      need[0] -= this.size[0][i];
      need[1] -= this.size[1][i];
    }
    return need;
  }

  toLayout(): Layout {
    const layout: Layout = this.instance.vms.map(() => new Map());
    for (let v = 0; v < this.V; v++) {
      for (let t = 0; t < this.T; t++) {
        const i = v * this.T + t;
        if (this.has[i]) layout[v].set(t, { cpu_cores: this.size[0][i], mem_units: this.size[1][i] });
      }
    }
    return layout;
  }

  /** Removes `item` from the list of `length` entries at `start`, the last one taking its place. */
  protected unlist(id: typeof VMS_OF | typeof TIERS_OF, start: number, length: number, item: number): void {
    const list = id === VMS_OF ? this.vmsOf : this.tiersOf;
    for (let k = start; k < start + length; k++) {
      if (list[k] !== item) continue;
      this.undo.set(id, k, list[start + length - 1]);
      return;
    }
  }

  protected removePair(v: number, t: number): [number, number] {
    const i = v * this.T + t;
    const need: [number, number] = [this.size[0][i], this.size[1][i]];
    const { undo } = this;
    undo.set(FREE[0], v, this.free[0][v] + need[0]);
    undo.set(FREE[1], v, this.free[1][v] + need[1]);
    undo.set(SIZE[0], i, 0);
    undo.set(SIZE[1], i, 0);
    undo.set(HAS, i, 0);
    this.unlist(VMS_OF, t * this.V, this.count[t], v);
    this.unlist(TIERS_OF, v * this.T, this.hosted[v], t);
    undo.set(COUNT, t, this.count[t] - 1);
    this.total -= this.pairTerm(i, t) + this.vmTerm(v);
    undo.set(HOSTED, v, this.hosted[v] - 1);
    this.total += this.vmTerm(v);
    return need;
  }

  /** Creates tier t's container on v with the given sizes (the caller made sure they fit). */
  protected insertPair(v: number, t: number, cpu: number, mem: number): void {
    this.createPair(v, t, cpu, mem);
  }

  private createPair(v: number, t: number, cpu: number, mem: number): void {
    const i = v * this.T + t;
    const { undo } = this;
    undo.set(HAS, i, 1);
    undo.set(SIZE[CPU], i, cpu);
    undo.set(SIZE[MEM], i, mem);
    undo.set(FREE[CPU], v, this.free[CPU][v] - cpu);
    undo.set(FREE[MEM], v, this.free[MEM][v] - mem);
    undo.set(VMS_OF, t * this.V + this.count[t], v);
    undo.set(TIERS_OF, v * this.T + this.hosted[v], t);
    undo.set(COUNT, t, this.count[t] + 1);
    this.total += this.pairTerm(i, t) - this.vmTerm(v);
    undo.set(HOSTED, v, this.hosted[v] + 1);
    this.total += this.vmTerm(v);
  }

  /**
   * Carries `need` of tier t: through its containers first, then into new containers on VMs in use
   * (where it ran before first, then the roomiest), within its container cap.
   */
  place(t: number, need: [number, number], random: () => number, mayOpen = false): boolean {
    need[0] -= this.route(0, t, need[0]);
    need[1] -= this.route(1, t, need[1]);
    const tier = this.instance.tiers[t];
    while (need[0] > 0 || need[1] > 0) {
      if (this.count[t] >= tier.maxContainers) return false;
      // The four best VMs in use without the tier: where it ran before, then the roomiest.
      const room = [0, 0];
      const candidates: number[] = [];
      const scores: number[] = [];
      // One VM, at random, gets a small bonus: ties are broken differently from call to call.
      const favoured = Math.floor(random() * this.V);
      const wantCpu = Math.max(1, need[0]);
      const wantMem = Math.max(1, need[1]);
      for (let v = 0; v < this.V; v++) {
        if (this.hosted[v] === 0 || this.banned[v] || this.has[v * this.T + t] || !this.allowed[v * this.T + t]) continue;
        room[0] += this.free[0][v];
        room[1] += this.free[1][v];
        const score = (this.prior[v * this.T + t] ? 10 : 0) + (v === favoured ? 0.05 : 0)
          + Math.min(this.free[0][v] / wantCpu, 1) + Math.min(this.free[1][v] / wantMem, 1);
        let k = candidates.length;
        if (k === 4) {
          if (score <= scores[3]) continue;
          k = 3;
        } else {
          candidates.push(v);
          scores.push(score);
        }
        while (k > 0 && scores[k - 1] < score) {
          candidates[k] = candidates[k - 1];
          scores[k] = scores[k - 1];
          k--;
        }
        candidates[k] = v;
        scores[k] = score;
      }
      // When the VMs in use lack the room altogether, more containers on them cannot help: open one.
      // So does a VM in use that cannot take the rest whole: a tier scattered in small containers
      // over full VMs is what the search later cannot undo, an opened VM it empties again if it can.
      const best = candidates[0];
      const wholeFits = best !== undefined && this.free[0][best] >= need[0] && this.free[1][best] >= need[1];
      const openFirst = mayOpen && (room[0] < need[0] || room[1] < need[1] || !wholeFits);
      let added = openFirst && this.idleVmToOpen(need, t).some((v) => this.addPair(v, t, need));
      if (!added) added = candidates.some((v) => this.addPair(v, t, need));
      if (!added && mayOpen && !openFirst) added = this.idleVmToOpen(need, t).some((v) => this.addPair(v, t, need));
      if (!added) return false;
      need[0] -= this.route(0, t, need[0]);
      need[1] -= this.route(1, t, need[1]);
    }
    return true;
  }

  /** An idle VM that takes all of `need` (existing before new), else the roomiest; none past max_vms. */
  protected idleVmToOpen(need: [number, number], t = -1): number[] {
    const maxVms = this.instance.maxVms;
    if (maxVms !== undefined && this.usedVms().length >= maxVms) return [];
    const idle = [];
    for (let v = 0; v < this.V; v++) {
      if (this.hosted[v] === 0 && !this.banned[v] && this.free[0][v] >= 1 && this.free[1][v] >= 1 && (t < 0 || this.allowed[v * this.T + t])) idle.push(v);
    }
    const whole = (v: number) => (this.free[0][v] >= need[0] && this.free[1][v] >= need[1] ? 0 : 1);
    const isNew = (v: number) => (this.instance.vms[v].isNew ? 1 : 0);
    const room = (v: number) => Math.min(this.free[0][v] / Math.max(1, need[0]), 1) + Math.min(this.free[1][v] / Math.max(1, need[1]), 1);
    const home = (v: number) => (t >= 0 && this.prior[v * this.T + t] ? 0 : 1);
    idle.sort((a, b) => whole(a) - whole(b) || isNew(a) - isNew(b) || home(a) - home(b) || room(b) - room(a));
    return idle.slice(0, 1);
  }

  /**
   * Creates tier t's container on v with 1 core and 1 unit, taken from `need` where some is left,
   * else from one of the tier's other containers. Room for it is made by routing one unit of
   * another tier off v when v is full.
   */
  protected addPair(v: number, t: number, need: [number, number]): boolean {
    const i = v * this.T + t;
    if (!this.allowed[i]) return false;
    for (const r of [CPU, MEM] as const) {
      if (this.free[r][v] >= 1) continue;
      if (!this.makeRoom(r, v)) return false;
    }
    for (const r of [CPU, MEM] as const) {
      if (need[r] > 0) continue;
      // The tier's load of this resource is all placed: the new container's 1 comes out of another one.
      let donor = -1;
      for (let w = 0; w < this.V; w++) if (this.has[w * this.T + t] && this.size[r][w * this.T + t] > 1) donor = w;
      if (donor < 0) return false;
      this.undo.set(SIZE[r], donor * this.T + t, this.size[r][donor * this.T + t] - 1);
      this.undo.set(FREE[r], donor, this.free[r][donor] + 1);
      need[r] += 1;
    }
    this.createPair(v, t, 1, 1);
    need[0] -= 1;
    need[1] -= 1;
    return true;
  }

  /** Frees one unit of resource r on v by moving one unit of a container there (of more than 1) elsewhere. */
  protected makeRoom(r: Resource, v: number): boolean {
    for (let t = 0; t < this.T; t++) {
      const i = v * this.T + t;
      if (!this.has[i] || this.size[r][i] < 2) continue;
      this.undo.set(SIZE[r], i, this.size[r][i] - 1);
      this.undo.set(FREE[r], v, this.free[r][v] + 1);
      this.banned[v] += 1;
      const moved = this.route(r, t, 1);
      this.banned[v] -= 1;
      if (moved === 1) return true;
      this.undo.set(SIZE[r], i, this.size[r][i] + 1);
      this.undo.set(FREE[r], v, this.free[r][v] - 1);
    }
    return false;
  }

  /**
   * Pushes up to `amount` of resource r for tier t into the containers, by augmenting paths
   * tier → VM (a container of that tier grows) → tier (another container on that VM shrinks, never
   * below 1) → … ending at a VM with room. Banned VMs are never entered. Returns what was placed.
   */
  protected route(r: Resource, t0: number, amount: number): number {
    const { V, T } = this;
    const size = this.size[r];
    const free = this.free[r];
    let placed = 0;
    while (placed < amount) {
      const stamp = ++this.searchStamp;
      let head = 0;
      let tail = 0;
      this.queue[tail++] = t0;
      this.seenTier[t0] = stamp;
      let end = -1;
      search: while (head < tail) {
        const t = this.queue[head++];
        for (let a = t * V, aEnd = a + this.count[t]; a < aEnd; a++) {
          const v = this.vmsOf[a];
          if (this.seenVm[v] === stamp || this.banned[v]) continue;
          this.seenVm[v] = stamp;
          this.viaTier[v] = t;
          if (free[v] > 0) {
            end = v;
            break search;
          }
          for (let b = v * T, bEnd = b + this.hosted[v]; b < bEnd; b++) {
            const t2 = this.tiersOf[b];
            const i = v * T + t2;
            if (this.seenTier[t2] === stamp || size[i] < 2) continue;
            this.seenTier[t2] = stamp;
            this.viaVm[t2] = v;
            this.queue[tail++] = t2;
          }
        }
      }
      if (end < 0) break;
      let delta = Math.min(amount - placed, free[end]);
      for (let v = end; ; ) {
        const t = this.viaTier[v];
        if (t === t0) break;
        v = this.viaVm[t];
        delta = Math.min(delta, size[v * T + t] - 1);
      }
      const { undo } = this;
      undo.set(FREE[r], end, free[end] - delta);
      for (let v = end; ; ) {
        const t = this.viaTier[v];
        undo.set(SIZE[r], v * T + t, size[v * T + t] + delta);
        if (t === t0) break;
        v = this.viaVm[t];
        undo.set(SIZE[r], v * T + t, size[v * T + t] - delta);
      }
      placed += delta;
    }
    return placed;
  }
}

/** Copies `from` into `to`, array by array (same sizes: both belong to one FluidLayout). */
function copyState(to: Snapshot, from: Snapshot): void {
  to.total = from.total;
  to.has.set(from.has);
  to.vmsOf.set(from.vmsOf);
  to.tiersOf.set(from.tiersOf);
  to.size[0].set(from.size[0]);
  to.size[1].set(from.size[1]);
  to.free[0].set(from.free[0]);
  to.free[1].set(from.free[1]);
  to.count.set(from.count);
  to.hosted.set(from.hosted);
}

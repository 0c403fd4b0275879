import { AllocationInstance, Layout, mayHost, mustKeep, vmCost } from '../model/allocation-instance';

/** Above this many VMs the assignment (cubic in the VMs) is not tried: 400 VMs take about 50 ms. */
const MOST_VMS = 400;

/**
 * Time to leave for `reassignContents` on a fleet of `vms` VMs: measured 2 ms at 100 VMs, 10 ms at
 * 200, 50 ms at 400 once compiled, and about 10 ms more on its first call in a process.
 */
export function reassignmentReserveMs(vms: number): number {
  return vms < 2 || vms > MOST_VMS ? 0 : 10 + 1.5 * (vms / 100) ** 3;
}
const FORBIDDEN = 1e9;

/**
 * What each VM hosts, moved whole to the VM where it costs least: an assignment problem, solved
 * exactly. A VM's contents fit any VM with the capacity for them, so every permutation that
 * respects capacity, `placeable` and `keep` is a valid layout with the same sizes; only the
 * container terms change (kept 3, created 4, deleted 1 or 100) and which VMs are new or existing.
 * Where the used VMs are full and the cost is in which containers stay where they ran, the search's
 * moves (one or two containers at a time, each needing room) cannot reach what a permutation of
 * many VMs' contents does at once. Undefined when no permutation is cheaper, or when the
 * assignment is not done by `deadlineMs` (on a loaded machine it can take several times its reserve).
 */
export function reassignContents(instance: AllocationInstance, layout: Layout, deadlineMs = Infinity): Layout | undefined {
  const n = instance.vms.length;
  if (n < 2 || n > MOST_VMS || Date.now() >= deadlineMs) return undefined;
  const load = layout.map((hosted) => {
    let cpu = 0;
    let mem = 0;
    for (const r of hosted.values()) {
      cpu += r.cpu_cores;
      mem += r.mem_units;
    }
    return { cpu, mem };
  });
  // cost[b][v]: the contents of VM b placed on VM v.
  const cost: Float64Array[] = [];
  for (let b = 0; b < n; b++) {
    const row = new Float64Array(n);
    const hosted = layout[b];
    const pinnedHere = [...hosted.keys()].some((t) => mustKeep(instance, b, t));
    for (let v = 0; v < n; v++) {
      const vm = instance.vms[v];
      let allowed = load[b].cpu <= vm.cpu && load[b].mem <= vm.mem && (!pinnedHere || v === b);
      if (allowed) for (const t of hosted.keys()) if (!mayHost(instance, v, t)) allowed = false;
      if (allowed && vm.kept) for (const t of vm.prior.keys()) if (mustKeep(instance, v, t) && !hosted.has(t)) allowed = false;
      row[v] = allowed ? vmCost(instance, v, hosted) : FORBIDDEN;
    }
    cost.push(row);
  }
  if (Date.now() >= deadlineMs) return undefined;
  const assigned = assignmentWithin(cost, deadlineMs);
  if (!assigned) return undefined;
  let before = 0;
  let after = 0;
  for (let b = 0; b < n; b++) {
    before += cost[b][b];
    after += cost[b][assigned[b]];
  }
  if (after >= before || after >= FORBIDDEN) return undefined;
  const moved: Layout = instance.vms.map(() => new Map());
  for (let b = 0; b < n; b++) moved[assigned[b]] = new Map(layout[b]);
  return moved;
}

/**
 * The assignment of rows to columns of least total cost (square matrix): the Hungarian method with
 * potentials, O(n³). Returns, per row, its column.
 */
export function minimumCostAssignment(cost: ArrayLike<number>[]): number[] {
  return assignmentWithin(cost, Infinity)!;
}

/** The same, or undefined once `deadlineMs` has passed (checked after each row). */
function assignmentWithin(cost: ArrayLike<number>[], deadlineMs: number): number[] | undefined {
  const n = cost.length;
  // 1-based: column 0 is the virtual start of each augmenting path.
  const rowPotential = new Float64Array(n + 1);
  const colPotential = new Float64Array(n + 1);
  const rowOfCol = new Int32Array(n + 1);
  const previous = new Int32Array(n + 1);
  const slack = new Float64Array(n + 1);
  const visited = new Uint8Array(n + 1);
  for (let row = 1; row <= n; row++) {
    rowOfCol[0] = row;
    let col0 = 0;
    slack.fill(Infinity);
    visited.fill(0);
    do {
      visited[col0] = 1;
      const r = rowOfCol[col0];
      let delta = Infinity;
      let next = 0;
      for (let col = 1; col <= n; col++) {
        if (visited[col]) continue;
        const reduced = cost[r - 1][col - 1] - rowPotential[r] - colPotential[col];
        if (reduced < slack[col]) {
          slack[col] = reduced;
          previous[col] = col0;
        }
        if (slack[col] < delta) {
          delta = slack[col];
          next = col;
        }
      }
      for (let col = 0; col <= n; col++) {
        if (visited[col]) {
          rowPotential[rowOfCol[col]] += delta;
          colPotential[col] -= delta;
        } else slack[col] -= delta;
      }
      col0 = next;
    } while (rowOfCol[col0] !== 0);
    do {
      const col = previous[col0];
      rowOfCol[col0] = rowOfCol[col];
      col0 = col;
    } while (col0 !== 0);
    if (Date.now() > deadlineMs) return undefined;
  }
  const columnOf = new Array<number>(n);
  for (let col = 1; col <= n; col++) columnOf[rowOfCol[col] - 1] = col - 1;
  return columnOf;
}

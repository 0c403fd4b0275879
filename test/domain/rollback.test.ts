import { Allocation } from '../../src/domain/allocation';
import { Cluster } from '../../src/domain/cluster';
import { ConflictError } from '../../src/domain/errors';
import { Execution, finishExecution, newExecution, newRecords, startAction, startExecution } from '../../src/domain/execution';
import { ExecutionKind } from '../../src/domain/events';
import { rollbackRefusal, rollbackTarget, rollsBackAutomatically } from '../../src/domain/rollback';
import { parseTopology } from '../../src/schema/topology-file';
import { shopTopology } from '../support/topologies';

const r = (cpu_cores: number, mem_units: number) => ({ cpu_cores, mem_units });

const topology = (infrastructure: Record<string, unknown> = {}, tiers?: Record<string, Record<string, unknown>>) =>
  parseTopology(shopTopology({ nodes: [{ name: 'n1', docker: 'tcp://n1:2375' }, { name: 'n2', docker: 'tcp://n2:2375' }], infrastructure, tiers }));

/** A cluster of the given VMs (4 cores, 8 units each) running the given containers. */
function cluster(vms: Record<string, Record<string, { cpu_cores: number; mem_units: number }>>): Cluster {
  return Object.fromEntries(Object.entries(vms).map(([name, tiers]) => [name, {
    vm: { name, capacity: r(4, 8), engine: { kind: 'docker' as const, url: `tcp://${name}:2375` } },
    containers: Object.fromEntries(Object.entries(tiers).map(([tier, res], i) => [tier, { id: `${name}-${tier}`, tier, resources: res, cpuset: [...Array(res.cpu_cores).keys()].map((c) => c + i), state: 'running' }])),
  }]));
}

/** A finished execution that started from `before`, with one action that ran. */
function finished(before: Allocation | undefined, status: 'succeeded' | 'failed' = 'succeeded', kind: ExecutionKind = 'plan'): Execution {
  const e = newExecution('e1', {}, kind);
  startExecution(e);
  e.allocation_before = before;
  e.steps = newRecords([[{ type: 'delete_container', vm: 'n1', tier: 'shop_web', resources: r(1, 1), cpuset: [0] }]]);
  startAction(e.steps[0][0]);
  finishExecution(e, status, status === 'failed' ? { code: 'action_failed', message: 'x' } : undefined);
  return e;
}

const before: Allocation = {
  n1: { cpu_cores: 4, mem_units: 8, used: { shop_db: r(1, 2), shop_web: r(2, 1) } },
  n2: { cpu_cores: 4, mem_units: 8, used: { shop_web: r(1, 1) } },
};

describe('rollback target', () => {
  it('is the placement the execution started from, on the same VMs, whatever runs now', () => {
    const now = cluster({ n1: { shop_db: r(2, 4) }, n2: { shop_web: r(3, 3), shop_cache: r(1, 1) } });
    const { target, notes } = rollbackTarget(finished(before), { topology: topology({}, { db: { docker_image: 'x' }, web: { docker_image: 'x' }, cache: { docker_image: 'x' } }), cluster: now, elastic: false });
    // shop_cache was not there before: it goes.
    expect(target).toEqual({ n1: { shop_db: r(1, 2), shop_web: r(2, 1) }, n2: { shop_web: r(1, 1) } });
    expect(notes).toEqual([]);
  });

  it('leaves out tiers the topology no longer has, and says so', () => {
    const { target, notes } = rollbackTarget(finished(before), { topology: topology({}, { db: { docker_image: 'x' } }), cluster: cluster({ n1: {}, n2: {} }), elastic: false });
    expect(target).toEqual({ n1: { shop_db: r(1, 2) } });
    expect(notes).toEqual(['tiers no longer in the topology are left out: shop_web']);
  });

  it('replaces a VM that is gone by a new one on an elastic cloud, and refuses on a static pool', () => {
    const now = cluster({ n1: {} });
    const elastic = rollbackTarget(finished(before), { topology: topology(), cluster: now, elastic: true });
    expect(elastic.target).toEqual({ n1: { shop_db: r(1, 2), shop_web: r(2, 1) }, new_vm0: { shop_web: r(1, 1) } });
    expect(elastic.notes).toEqual(['VMs no longer there are replaced by new ones: n2']);
    expect(() => rollbackTarget(finished(before), { topology: topology(), cluster: now, elastic: false })).toThrow(/'n2'.*no longer in the static pool/);
  });

  it('refuses a placement that no longer fits its VM', () => {
    const big: Allocation = { n1: { cpu_cores: 8, mem_units: 8, used: { shop_web: r(6, 1) } } };
    expect(() => rollbackTarget(finished(big), { topology: topology(), cluster: cluster({ n1: {} }), elastic: false })).toThrow(/6 cores .* on 'n1'; VM 'n1' now has 4 and 8/);
  });

  it('refuses an execution still queued or running, and one that never read the cluster', () => {
    const queued = newExecution('q1', {});
    expect(rollbackRefusal(queued)).toMatch(/'q1' is still queued/);
    startExecution(queued);
    expect(() => rollbackTarget(queued, { topology: topology(), cluster: cluster({ n1: {} }), elastic: false })).toThrow(ConflictError);
    const early = newExecution('f1', {});
    startExecution(early);
    finishExecution(early, 'failed', { code: 'engine', message: "vm 'n1' does not answer" });
    expect(rollbackRefusal(early)).toBe("execution 'f1' has no allocation_before to return to (it failed before reading the cluster: engine: vm 'n1' does not answer)");
    expect(rollbackRefusal(finished(before))).toBeUndefined();
  });
});

describe('on_failure: rollback', () => {
  it('undoes a failed plan that changed something, only when the topology asks', () => {
    expect(rollsBackAutomatically(finished(before, 'failed'), topology({ on_failure: 'rollback' }))).toBe(true);
    expect(rollsBackAutomatically(finished(before, 'failed'), topology())).toBe(false);
    expect(rollsBackAutomatically(finished(before, 'failed'), topology({ on_failure: 'stop' }))).toBe(false);
    expect(rollsBackAutomatically(finished(before, 'succeeded'), topology({ on_failure: 'rollback' }))).toBe(false);
  });

  it('never undoes a rollback (no loop) nor the daemon\'s own executions', () => {
    for (const kind of ['rollback', 'reconcile', 'heal', 'drain'] as const) {
      expect(rollsBackAutomatically(finished(before, 'failed', kind), topology({ on_failure: 'rollback' }))).toBe(false);
    }
  });

  it('leaves alone a failed plan no action of which ran', () => {
    const refused = newExecution('e2', {});
    startExecution(refused);
    refused.allocation_before = before;
    finishExecution(refused, 'failed', { code: 'no_solution', message: 'No solution found' });
    expect(rollsBackAutomatically(refused, topology({ on_failure: 'rollback' }))).toBe(false);
  });

  it('is a topology field of infrastructure: stop (default) or rollback', () => {
    expect(topology().infrastructure.onFailure).toBe('stop');
    expect(topology({ on_failure: 'rollback' }).infrastructure.onFailure).toBe('rollback');
    expect(() => topology({ on_failure: 'retry' })).toThrow("infrastructure.on_failure: must be 'stop' or 'rollback'");
  });
});

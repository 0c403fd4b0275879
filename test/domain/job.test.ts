import { backoffMs, canTransition, inputDelivery, newJobId, shouldRetry, statusAfter } from '../../src/domain/job';
import { JobNode, placeJob } from '../../src/domain/job-placement';

const node = (name: string, over: Partial<JobNode> = {}): JobNode => ({
  name, capacity: { cpu_cores: 4, mem_units: 4 }, labels: {}, heldCores: new Set(), unpinnedCores: 0, heldUnits: 0, ...over,
});

describe('jobs: states, retries, ids', () => {
  it.each([
    ['queued', 'starting', true], ['queued', 'cancelled', true], ['queued', 'running', false],
    ['running', 'queued', true], ['running', 'succeeded', true], ['succeeded', 'queued', false], ['cancelled', 'running', false],
  ] as const)('%s -> %s is %s', (from, to, ok) => {
    expect(canTransition(from, to)).toBe(ok);
  });

  it('backs off 2 s, 4 s, 8 s … at most 60 s', () => {
    expect([1, 2, 3, 4, 5, 6, 7, 20].map(backoffMs)).toEqual([2000, 4000, 8000, 16000, 32000, 60000, 60000, 60000]);
  });

  it.each([
    [{ retries: 2, retry_on: ['node_lost'] }, 'node_lost', 1, true],
    [{ retries: 2, retry_on: ['node_lost'] }, 'node_lost', 3, false],
    [{ retries: 2, retry_on: ['node_lost'] }, 'exit', 1, false],
    [{ retries: 5, retry_on: ['exit', 'oom'] }, 'cancelled', 1, false],
  ] as const)('retry %j after %s (attempts %i): %s', (spec, reason, n, expected) => {
    expect(shouldRetry({ retries: spec.retries, retry_on: [...spec.retry_on] }, reason, n)).toBe(expected);
  });

  it.each([
    ['exit', 0, 'succeeded'], ['exit', 1, 'failed'], ['oom', 137, 'failed'], ['timeout', undefined, 'timed_out'], ['cancelled', undefined, 'cancelled'], ['node_lost', undefined, 'failed'],
  ] as const)('an attempt ending %s (exit %s) leaves %s', (reason, code, status) => {
    expect(statusAfter(reason, code)).toBe(status);
  });

  it('makes ids that sort by submission, also within one millisecond', () => {
    const now = new Date('2026-12-07T06:00:00.000Z');
    const ids = Array.from({ length: 5 }, (_, i) => newJobId(now, `r${5 - i}`));
    expect([...ids].sort()).toEqual(ids);
    expect(newJobId(new Date('2026-12-07T06:00:00.001Z'), 'a') > ids[4]).toBe(true);
  });

  it.each([
    ['arg', { argv: ['./main.sh', 'in put'], files: [] }],
    ['stdin', { argv: ['./main.sh'], stdin: Buffer.from('in put'), files: [] }],
    ['file', { argv: ['./main.sh'], files: [{ path: '/ecoware/input', content: Buffer.from('in put') }] }],
  ] as const)('delivers input by %s', (mode, expected) => {
    expect(inputDelivery({ command: ['./main.sh'], input_mode: mode }, 'in put')).toEqual(expected);
  });
});

describe('job placement', () => {
  it('picks cores no tier and no job holds, on the fullest node that fits', () => {
    const nodes = [node('n1', { heldCores: new Set([0, 1]), heldUnits: 2 }), node('n2', { heldCores: new Set([1]) })];
    expect(placeJob(nodes, { cpu_cores: 2, mem_units: 2 })).toEqual({ vm: 'n1', cpuset: [2, 3] });
    expect(placeJob(nodes, { cpu_cores: 3, mem_units: 1 })).toEqual({ vm: 'n2', cpuset: [0, 2, 3] });
  });

  it('says what is short on which node', () => {
    const nodes = [
      node('n1', { heldCores: new Set([0, 1, 2]), heldUnits: 1, labels: { zone: 'a' } }),
      node('n2', { unschedulable: 'cordoned', labels: { zone: 'a' } }),
      node('n3', { labels: { zone: 'b' } }),
      node('n4', { heldUnits: 3, heldCores: new Set([0, 1, 2]), labels: { zone: 'a' } }),
    ];
    const result = placeJob(nodes, { cpu_cores: 2, mem_units: 2, node_selector: { zone: 'a' } }, undefined);
    expect(result).toEqual({ neverFits: false, reason: 'no ready node has 2 free cores and 2 free memory units: n1 has 1 free core, n2 cordoned, n3 does not match the selector, n4 has 1 free core and 1 free memory unit' });
    expect(placeJob(nodes, { cpu_cores: 1, mem_units: 1, node_selector: { gpu: 'yes' } })).toEqual({ neverFits: true, reason: 'no node matches node_selector {gpu: yes}' });
  });

  it('tells never_fits apart from no room now, counting the cloud vm_size', () => {
    const nodes = [node('n1'), node('n2')];
    expect(placeJob(nodes, { cpu_cores: 64, mem_units: 1 })).toMatchObject({ neverFits: true, reason: expect.stringContaining('could hold 64 cores and 1 memory unit') });
    expect(placeJob(nodes, { cpu_cores: 8, mem_units: 1 }, { cpu_cores: 8, mem_units: 8 })).toMatchObject({ neverFits: false });
  });

  it('counts cores held on a runtime that does not pin them', () => {
    expect(placeJob([node('n1', { unpinnedCores: 3 })], { cpu_cores: 2, mem_units: 1 })).toMatchObject({ neverFits: false, reason: expect.stringContaining('n1 has 1 free core') });
  });
});

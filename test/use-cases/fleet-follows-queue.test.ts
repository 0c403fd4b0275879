import { loadTopology } from '../../src/use-cases/topology/load-topology';
import { FleetFollowsQueue, firstFit } from '../../src/use-cases/jobs/fleet-follows-queue';
import { fakeDaemon } from '../support/fake-daemon';
import { shopTopology } from '../support/topologies';
import { TestJobs } from '../support/test-jobs';

/** On an elastic cloud the fleet grows for queued jobs that fit nowhere and sheds VMs that stay idle. */
describe('the fleet following the job queue', () => {
  let d: Awaited<ReturnType<typeof fakeDaemon>>;
  let jobs: TestJobs;
  let clock: number;
  let fleet: FleetFollowsQueue;
  const vms = () => Object.keys(d.knowledge.requireDeployment().cluster).sort();

  async function start(options: { elastic?: boolean; infrastructure?: Record<string, unknown> } = {}) {
    d = await fakeDaemon({ elastic: options.elastic ?? true });
    jobs = new TestJobs();
    d.services.jobs = jobs;
    const topology = options.elastic === false
      ? shopTopology({ infrastructure: options.infrastructure })
      : shopTopology({ elastic: true, infrastructure: { scale_in_idle_s: 1, ...options.infrastructure } });
    await loadTopology(d.knowledge, d.services, topology);
    clock = 1_000_000;
    fleet = new FleetFollowsQueue(d.knowledge, d.services, d.executions.intake, { now: () => clock, joinGraceMs: 10_000 });
  }
  afterEach(async () => { await d.close(); });

  it('adds one VM for demand that fits nowhere, as an execution of kind scale, and not again while it joins', async () => {
    await start();
    jobs.demand({ job: '01A', cores: 2, memUnits: 2 });
    jobs.demand({ job: '01B', cores: 2, memUnits: 2 });
    // The queue is busy: the scale execution waits its turn, the VM is still to join.
    let release!: () => void;
    const busy = d.queue.run(() => new Promise<void>((resolve) => { release = resolve; }));
    const first = fleet.pass();
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(await fleet.pass()).toEqual([]);
    release();
    await busy;
    const [grown] = await first;
    expect(grown).toMatchObject({ kind: 'scale', status: 'succeeded', notes: [expect.stringContaining('job 01A (2 cores, 2 units), job 01B (2 cores, 2 units)')] });
    expect(d.cloud.createCalls).toEqual([1]);
    expect(vms()).toEqual(['fake-vm-1']);
    expect(jobs.pokes).toBe(1);

    // Joined, but the jobs part has not started them yet: no second VM within the grace.
    clock += 5_000;
    expect(await fleet.pass()).toEqual([]);
    expect(d.cloud.createCalls).toEqual([1]);
    // Still waiting after it: the demand grows the fleet again, and the first VM may now count as idle.
    clock += 6_000;
    expect((await fleet.pass()).map((e) => e.kind)).toEqual(['scale']);
    expect(d.cloud.createCalls).toEqual([1, 1]);
    expect(vms()).toEqual(['fake-vm-1', 'fake-vm-2']);
  });

  it('adds as many VMs as first fit needs, within max_vms, and none for demand no VM could hold', async () => {
    await start({ infrastructure: { max_vms: 2 } });
    jobs.demand({ job: '01A', cores: 3, memUnits: 1 });
    jobs.demand({ job: '01HUGE', cores: 5, memUnits: 1 });
    jobs.demand({ job: '01B', cores: 3, memUnits: 1 });
    jobs.demand({ job: '01C', cores: 3, memUnits: 1 });
    await fleet.pass();
    expect(d.cloud.createCalls).toEqual([2]);
    expect(vms()).toHaveLength(2);
    clock += 20_000;
    jobs.queued = jobs.queued.filter((q) => q.job === '01C');
    await fleet.pass();
    expect(d.cloud.createCalls).toEqual([2]);
  });

  it('does nothing on a static cloud', async () => {
    await start({ elastic: false });
    jobs.demand({ job: '01A', cores: 2, memUnits: 2 });
    expect(await fleet.pass()).toEqual([]);
    clock += 1_000_000;
    expect(await fleet.pass()).toEqual([]);
    expect(await d.services.executions.listUnfinished()).toEqual([]);
    expect(vms()).toEqual(['node1']);
  });

  it('releases a VM idle for scale_in_idle_s, never one a job holds, nor one a tier runs on', async () => {
    await start();
    expect((await (await d.executions.submit({ shop_web: { cpu_cores: 6, mem_units: 2 } })).done).status).toBe('succeeded');
    expect(vms()).toEqual(['fake-vm-1', 'fake-vm-2']);
    expect((await (await d.executions.submit({ shop_web: { cpu_cores: 2, mem_units: 2 } })).done).status).toBe('succeeded');
    // The plan released the VM it emptied; two more join by the cloud's own doing.
    const joined = await d.cloud.createVms(2);
    d.knowledge.vmsJoined(joined);
    const [held, idle] = joined.map((vm) => vm.name);
    jobs.hold({ job: '01RUN', vm: held, cpuset: [0] });

    expect(await fleet.pass()).toEqual([]);
    clock += 999;
    expect(await fleet.pass()).toEqual([]);
    clock += 1;
    const [released] = await fleet.pass();
    expect(released).toMatchObject({ kind: 'scale', status: 'succeeded', notes: [expect.stringContaining(`scale_in_idle_s): ${idle}`)] });
    expect(d.cloud.deleteCalls.filter((vm) => vm !== 'fake-vm-2')).toEqual([idle]);
    expect(vms()).toContain(held);
    expect(vms()).not.toContain(idle);

    clock += 60_000;
    expect(await fleet.pass()).toEqual([]);
    expect(vms()).toContain(held);
    // Its job ended: idle from now, released after scale_in_idle_s.
    jobs.end('01RUN');
    expect(await fleet.pass()).toEqual([]);
    clock += 1_000;
    expect((await fleet.pass()).map((e) => e.status)).toEqual(['succeeded']);
    expect(vms()).not.toContain(held);
    expect(vms()).toHaveLength(1);
  });

  it('keeps a VM a job took between the look and the turn of the release', async () => {
    await start();
    const [vm] = await d.cloud.createVms(1);
    d.knowledge.vmsJoined([vm]);
    expect(await fleet.pass()).toEqual([]);
    clock += 1_000;
    let release!: () => void;
    const busy = d.queue.run(() => new Promise<void>((resolve) => { release = resolve; }));
    const pass = fleet.pass();
    await new Promise((resolve) => setTimeout(resolve, 50));
    jobs.hold({ job: '01LATE', vm: vm.name, cpuset: [1] });
    release();
    await busy;
    const [kept] = await pass;
    expect(kept).toMatchObject({ kind: 'scale', status: 'succeeded', steps: [] });
    expect(d.cloud.deleteCalls).toEqual([]);
  });
});

describe('first fit of queued demand', () => {
  it('packs demands into VMs of vm_size, leaving out what no VM holds and what has a selector', () => {
    const demand = (job: string, cores: number, memUnits: number, selector?: Record<string, string>) =>
      ({ job, template: 't', cores, memUnits, memoryMb: memUnits * 16, queuedSince: '', ...(selector ? { selector } : {}) });
    const bins = firstFit([demand('a', 3, 2), demand('b', 1, 6), demand('c', 2, 1), demand('d', 1, 9), demand('e', 1, 1, { zone: 'x' }), demand('f', 1, 1)], { cpu_cores: 4, mem_units: 8 });
    expect(bins.map((bin) => bin.map((x) => x.job))).toEqual([['a', 'b'], ['c', 'f']]);
  });
});

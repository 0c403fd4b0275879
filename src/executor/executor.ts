import { Action, releasesCores, Steps } from '../domain/action';
import { Placement } from '../domain/allocation';
import { Cluster } from '../domain/cluster';
import { ActionRecord } from '../domain/execution';
import { describeAction } from '../domain/action';
import { HookEvent, Topology } from '../domain/topology';
import { Vm } from '../domain/vm';
import { CloudDriver } from '../ports/cloud-driver';
import { ContainerRuntime } from '../ports/container-runtime';
import { HookResult, HookRunner, isHookSuccess } from '../ports/hook-runner';

export interface ExecutorPorts {
  cloud: CloudDriver;
  runtimeFor(vm: Vm): ContainerRuntime;
  hooks?: HookRunner;
}

export interface RunContext {
  topology: Topology;
  /** Updated in place as actions complete, so it tells the truth even when the run stops half-way. */
  cluster: Cluster;
  oldPlacement: Placement;
  newPlacement: Placement;
  signal: AbortSignal;
  /** Called whenever a record changes (persistence, followers). */
  onChange?: () => void;
}

export interface RunOutcome {
  status: 'succeeded' | 'failed' | 'cancelled';
  records: ActionRecord[][];
  error?: string;
}

class HookFailure extends Error {}

export function newRecords(steps: Steps): ActionRecord[][] {
  return steps.map((layer) => layer.map((action) => ({ description: describeAction(action), action, status: 'pending', hooks: [], progress: [] })));
}

/**
 * Carries out layers of actions. A layer starts when the previous one has finished; inside a layer
 * actions run in parallel, except that on each VM the actions releasing cores finish before those
 * taking cores start (see translator/plan-cpusets.ts). The first failure stops the run after its
 * layer (a failing hook only when the topology says `on_hook_failure: stop`); what did not run is
 * marked `skipped`, or `cancelled` after a cancel.
 */
export class Executor {
  constructor(private readonly ports: ExecutorPorts) {}

  async run(records: ActionRecord[][], ctx: RunContext): Promise<RunOutcome> {
    const vmNames = new Map<string, string>(); // placeholder -> real VM name
    const resolve = (vm: string) => vmNames.get(vm) ?? vm;
    let failure: string | undefined;

    for (const layer of records) {
      if (ctx.signal.aborted || failure) {
        for (const r of layer) r.status = ctx.signal.aborted ? 'cancelled' : 'skipped';
        continue;
      }
      const errors = await this.runLayer(layer, ctx, vmNames, resolve);
      const stopping = errors.filter((e) => !(e instanceof HookFailure && ctx.topology.infrastructure.onHookFailure === 'continue'));
      if (stopping.length > 0) failure = stopping.map((e) => e.message).join('; ');
      ctx.onChange?.();
    }
    if (ctx.signal.aborted) return { status: 'cancelled', records, error: failure };
    return failure ? { status: 'failed', records, error: failure } : { status: 'succeeded', records };
  }

  private async runLayer(layer: ActionRecord[], ctx: RunContext, vmNames: Map<string, string>, resolve: (vm: string) => string): Promise<Error[]> {
    const errors: Error[] = [];
    const creates = layer.filter((r) => r.action.type === 'create_vm');
    if (creates.length > 0) {
      const err = await this.createVms(creates, ctx, vmNames);
      if (err) errors.push(err);
    }
    const byVm = new Map<string, ActionRecord[]>();
    for (const r of layer) {
      if (r.action.type === 'create_vm') continue;
      const vm = resolve(r.action.vm);
      byVm.set(vm, [...(byVm.get(vm) ?? []), r]);
    }
    await Promise.all([...byVm.values()].map(async (onVm) => {
      const run = (r: ActionRecord) => this.track(r, ctx, () => this.perform(r, ctx, resolve)).catch((e: Error) => { errors.push(e); });
      await Promise.all(onVm.filter((r) => releasesCores(r.action)).map(run));
      await Promise.all(onVm.filter((r) => !releasesCores(r.action)).map(run));
    }));
    return errors;
  }

  /** One cloud call for all the layer's new VMs: an Auto Scaling group grows once, not once per VM. */
  private async createVms(records: ActionRecord[], ctx: RunContext, vmNames: Map<string, string>): Promise<Error | undefined> {
    const started = Date.now();
    for (const r of records) this.start(r);
    ctx.onChange?.();
    try {
      const vms = await this.ports.cloud.createVms(records.length, {
        signal: ctx.signal,
        onProgress: (message) => { for (const r of records) r.progress.push(message); ctx.onChange?.(); },
      });
      records.forEach((r, i) => {
        const vm = vms[i];
        vmNames.set(r.action.vm, vm.name);
        ctx.cluster[vm.name] = { vm, containers: {} };
        r.vm = vm.name;
        this.finish(r, started, 'succeeded');
      });
      return undefined;
    } catch (e) {
      const message = `create ${records.length} vm(s): ${errorMessage(e)}`;
      for (const r of records) this.finish(r, started, 'failed', message);
      return new Error(message);
    }
  }

  private async track(record: ActionRecord, ctx: RunContext, work: () => Promise<void>): Promise<void> {
    if (ctx.signal.aborted) {
      record.status = 'cancelled';
      return;
    }
    const started = Date.now();
    this.start(record);
    ctx.onChange?.();
    try {
      await work();
      this.finish(record, started, 'succeeded');
    } catch (e) {
      this.finish(record, started, 'failed', errorMessage(e));
      throw e instanceof HookFailure ? e : new Error(`${record.description}: ${errorMessage(e)}`);
    } finally {
      ctx.onChange?.();
    }
  }

  private async perform(record: ActionRecord, ctx: RunContext, resolve: (vm: string) => string): Promise<void> {
    const action = record.action as Exclude<Action, { type: 'create_vm' }>;
    const vmName = resolve(action.vm);
    record.vm = vmName;
    const state = ctx.cluster[vmName];
    if (!state) throw new Error(`vm '${vmName}' is not in the fleet`);
    const runtime = this.ports.runtimeFor(state.vm);
    const memUnitMb = ctx.topology.infrastructure.memUnitMb;

    switch (action.type) {
      case 'create_container': {
        const tier = ctx.topology.tiers.get(action.tier);
        if (!tier) throw new Error(`tier '${action.tier}' is not in the topology`);
        const extraHosts = action.extra_hosts.map(({ host, vm }) => {
          const address = ctx.cluster[resolve(vm)]?.vm.address;
          if (!address) throw new Error(`no address known for vm '${resolve(vm)}' (host entry '${host}')`);
          return { host, address };
        });
        const created = await runtime.create({
          name: tier.flatName, app: tier.app, tier: tier.tier, vm: vmName, image: tier.image, cpuset: action.cpuset,
          memoryMb: action.resources.mem_units * memUnitMb, ports: tier.ports, environment: tier.environment,
          args: tier.entrypointArgs, extraHosts,
        });
        record.container_id = created.id;
        state.containers[tier.flatName] = { id: created.id, tier: tier.flatName, resources: { ...action.resources }, cpuset: [...action.cpuset], state: created.state };
        await this.runHook(record, ctx, 'on_node_scale', vmName, action.tier);
        return;
      }
      case 'update_container': {
        const container = state.containers[action.tier];
        if (!container) throw new Error(`container '${action.tier}' is not on vm '${vmName}'`);
        await runtime.update(container.id, { cpuset: action.cpuset, memoryMb: action.resources.mem_units * memUnitMb });
        record.container_id = container.id;
        container.resources = { ...action.resources };
        container.cpuset = [...action.cpuset];
        if (action.start) container.state = (await runtime.start(container.id)).state;
        await this.runHook(record, ctx, 'on_node_scale', vmName, action.tier);
        return;
      }
      case 'start_container': {
        const container = state.containers[action.tier];
        if (!container) throw new Error(`container '${action.tier}' is not on vm '${vmName}'`);
        record.container_id = container.id;
        const started = await runtime.start(container.id);
        container.state = started.state;
        if (started.state !== 'running') throw new Error(`container '${action.tier}' on vm '${vmName}' is ${started.state} after start`);
        // A container that never started never ran its hook, and one that stopped restarts its processes.
        await this.runHook(record, ctx, 'on_node_scale', vmName, action.tier);
        return;
      }
      case 'delete_container': {
        const container = state.containers[action.tier];
        if (container) {
          record.container_id = container.id;
          await runtime.remove(container.id);
        }
        delete state.containers[action.tier];
        return;
      }
      case 'run_tier_hooks':
        await this.runHook(record, ctx, 'on_dependency_scale', vmName, action.tier);
        return;
      case 'delete_vm': {
        if (Object.keys(state.containers).length > 0) throw new Error(`vm '${vmName}' still runs ${Object.keys(state.containers).join(', ')}`);
        await this.ports.cloud.deleteVm(state.vm, {
          signal: ctx.signal,
          onProgress: (message) => { record.progress.push(message); ctx.onChange?.(); },
        });
        if (this.ports.cloud.isElastic) delete ctx.cluster[vmName];
        return;
      }
    }
  }

  private async runHook(record: ActionRecord, ctx: RunContext, event: HookEvent, vm: string, flatTier: string): Promise<void> {
    const tier = ctx.topology.tiers.get(flatTier);
    const spec = event === 'on_node_scale' ? tier?.onNodeScale : tier?.onDependencyScale;
    if (!tier || !spec) return;
    if (!this.ports.hooks) throw new Error(`tier '${flatTier}' has an ${event} hook but no hook runner is configured`);
    const container = ctx.cluster[vm]?.containers[flatTier];
    if (!container) throw new Error(`container '${flatTier}' is not on vm '${vm}'`);
    const result: HookResult = await this.ports.hooks.run({
      event, spec, tier, vm, containerId: container.id, resources: container.resources,
      oldAllocation: ctx.oldPlacement, newAllocation: ctx.newPlacement,
      timeoutMs: tier.hookTimeoutMs ?? ctx.topology.infrastructure.hookTimeoutMs, signal: ctx.signal,
    });
    record.hooks.push(result);
    if (!isHookSuccess(result)) {
      const why = result.cancelled ? 'was cancelled' : result.timedOut ? 'timed out' : `exited with code ${result.exitCode}`;
      const message = `${event} hook '${result.hook}' of '${flatTier}' on vm '${vm}' ${why}`;
      record.error = message;
      throw new HookFailure(message);
    }
  }

  private start(record: ActionRecord): void {
    record.status = 'running';
    record.started_at = new Date().toISOString();
  }

  private finish(record: ActionRecord, startedMs: number, status: 'succeeded' | 'failed', error?: string): void {
    record.status = status;
    record.finished_at = new Date().toISOString();
    record.duration_ms = Date.now() - startedMs;
    if (error) record.error = error;
  }
}

export function errorMessage(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

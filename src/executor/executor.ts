import { Action, describeAction, releasesCores, Steps } from '../domain/action';
import { errorCode, errorMessage, ErrorCode } from '../domain/errors';
import { HookResult, isHookSuccess } from '../domain/hook-result';
import { HookEvent } from '../domain/topology';
import { Vm } from '../domain/vm';
import { ContainerRuntime } from '../ports/container-runtime';
import { HookRunner } from '../ports/hook-runner';
import { ActionRef, RunContext } from './run-contract';
import { reportHostPorts, SystemContainerPorts, systemContainerFields, waitForHealthyDependencies } from './system-containers';

export type { ActionRef, ClusterLedger, RunContext, RunReport } from './run-contract';

export interface ExecutorPorts {
  runtimeFor(vm: Vm): ContainerRuntime;
  hooks?: HookRunner;
  /** For the tiers of systems (compose files); without it they get no host ports. */
  systems?: SystemContainerPorts;
}

export interface RunOutcome {
  status: 'succeeded' | 'failed' | 'cancelled';
  /** What stopped the run: every stopping failure's message, joined. */
  error?: string;
}

/** A failure of one action, with the code of what failed. */
class ActionFailure extends Error {
  constructor(message: string, readonly code: ErrorCode | 'hook_failed', readonly hook = false) {
    super(message);
  }
}

interface Slot {
  ref: ActionRef;
  action: Action;
  description: string;
  where: { vm?: string; containerId?: string };
}

/** The run's state: placeholder names of new VMs and the names they became. */
class RunState {
  private readonly vmNames = new Map<string, string>();
  resolve(vm: string): string {
    return this.vmNames.get(vm) ?? vm;
  }
  named(placeholder: string, real: string): void {
    this.vmNames.set(placeholder, real);
  }
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

  async run(steps: Steps, ctx: RunContext): Promise<RunOutcome> {
    const state = new RunState();
    let failure: string | undefined;

    for (const [l, actions] of steps.entries()) {
      const slots: Slot[] = actions.map((action, index) => ({ ref: { layer: l, index }, action, description: describeAction(action), where: {} }));
      if (ctx.signal.aborted || failure) {
        for (const s of slots) ctx.report.actionPassed(s.ref, ctx.signal.aborted ? 'cancelled' : 'skipped');
        continue;
      }
      const errors = await this.runLayer(slots, ctx, state);
      const stopping = errors.filter((e) => !(e.hook && ctx.topology.infrastructure.onHookFailure === 'continue'));
      if (stopping.length > 0) failure = stopping.map((e) => e.message).join('; ');
    }
    if (ctx.signal.aborted) return { status: 'cancelled', error: failure };
    return failure ? { status: 'failed', error: failure } : { status: 'succeeded' };
  }

  private async runLayer(layer: Slot[], ctx: RunContext, state: RunState): Promise<ActionFailure[]> {
    const errors: ActionFailure[] = [];
    const creates = layer.filter((s) => s.action.type === 'create_vm');
    if (creates.length > 0) {
      const err = await this.createVms(creates, ctx, state);
      if (err) errors.push(err);
    }
    const byVm = new Map<string, Slot[]>();
    for (const s of layer) {
      if (s.action.type === 'create_vm') continue;
      const vm = state.resolve(s.action.vm);
      byVm.set(vm, [...(byVm.get(vm) ?? []), s]);
    }
    await Promise.all([...byVm.values()].map(async (onVm) => {
      const run = (s: Slot) => this.track(s, ctx, () => this.perform(s, ctx, state)).catch((e: ActionFailure) => { errors.push(e); });
      await Promise.all(onVm.filter((s) => releasesCores(s.action)).map(run));
      await Promise.all(onVm.filter((s) => !releasesCores(s.action)).map(run));
    }));
    return errors;
  }

  /** One cloud call for all the layer's new VMs: an Auto Scaling group grows once, not once per VM. */
  private async createVms(slots: Slot[], ctx: RunContext, state: RunState): Promise<ActionFailure | undefined> {
    for (const s of slots) ctx.report.actionStarted(s.ref, s.where);
    try {
      const vms = await ctx.cloud.createVms(slots.length, {
        signal: ctx.signal,
        onProgress: (message) => { for (const s of slots) ctx.report.actionProgress(s.ref, message); },
      });
      slots.forEach((s, i) => {
        const vm = vms[i];
        state.named(s.action.vm, vm.name);
        ctx.cluster.vmCreated(vm);
        s.where.vm = vm.name;
        ctx.report.actionFinished(s.ref, 'succeeded', s.where);
      });
      return undefined;
    } catch (e) {
      const error = { code: errorCode(e), message: `create ${slots.length} vm(s): ${errorMessage(e)}` };
      for (const s of slots) ctx.report.actionFinished(s.ref, 'failed', s.where, error);
      return new ActionFailure(error.message, error.code);
    }
  }

  private async track(slot: Slot, ctx: RunContext, work: () => Promise<void>): Promise<void> {
    if (ctx.signal.aborted) {
      ctx.report.actionPassed(slot.ref, 'cancelled');
      return;
    }
    ctx.report.actionStarted(slot.ref, slot.where);
    try {
      await work();
      ctx.report.actionFinished(slot.ref, 'succeeded', slot.where);
    } catch (e) {
      if (e instanceof ActionFailure && e.hook) {
        ctx.report.actionFinished(slot.ref, 'failed', slot.where, { code: e.code, message: e.message });
        throw e;
      }
      const code = errorCode(e);
      ctx.report.actionFinished(slot.ref, 'failed', slot.where, { code, message: errorMessage(e) });
      throw new ActionFailure(`${slot.description}: ${errorMessage(e)}`, code);
    }
  }

  private async perform(slot: Slot, ctx: RunContext, run: RunState): Promise<void> {
    const action = slot.action;
    if (action.type === 'create_vm') throw new Error('create_vm is carried out per layer, not per action');
    const vmName = run.resolve(action.vm);
    slot.where.vm = vmName;
    const state = ctx.cluster.vm(vmName);
    if (!state) throw new Error(`vm '${vmName}' is not in the fleet`);
    const runtime = this.ports.runtimeFor(state.vm);
    const memUnitMb = ctx.topology.infrastructure.memUnitMb;

    switch (action.type) {
      case 'create_container': {
        const tier = ctx.topology.tiers.get(action.tier);
        if (!tier) throw new Error(`tier '${action.tier}' is not in the topology`);
        // A system's services find each other through its network and its own host entries (system-containers.ts).
        const extraHosts = (tier.system ? [] : action.extra_hosts).map(({ host, vm }) => {
          const address = ctx.cluster.vm(run.resolve(vm))?.vm.address;
          if (!address) throw new Error(`no address known for vm '${run.resolve(vm)}' (host entry '${host}')`);
          return { host, address };
        });
        const systemPorts = this.ports.systems;
        if (tier.system && !runtime.systemNetworks) throw new Error(`the container runtime of vm '${vmName}' cannot run the services of systems (no system networks)`);
        const resolve = (vm: string) => run.resolve(vm);
        const system = tier.system && systemPorts
          ? systemContainerFields({ tier, vm: vmName, topology: ctx.topology, cluster: ctx.cluster, newPlacement: ctx.newPlacement, resolve }, systemPorts)
          : undefined;
        if (system) {
          await waitForHealthyDependencies({ tier, topology: ctx.topology, cluster: ctx.cluster, newPlacement: ctx.newPlacement, resolve, signal: ctx.signal, runtimeFor: this.ports.runtimeFor }, systemPorts!);
        }
        const created = await runtime.create({
          name: tier.flatName, app: tier.app, tier: tier.tier, vm: vmName, image: tier.image, cpuset: action.cpuset,
          memoryMb: action.resources.mem_units * memUnitMb, ports: tier.ports, environment: { ...system?.environment, ...tier.environment },
          args: tier.entrypointArgs, extraHosts: [...extraHosts, ...(system?.extraHosts ?? [])], system: system?.system,
          ...(tier.volumes ? { mounts: tier.volumes } : {}),
        });
        slot.where.containerId = created.id;
        if (system) reportHostPorts(systemPorts!.ledger, tier, vmName, created.hostPorts);
        ctx.cluster.containerSet(vmName, { id: created.id, tier: tier.flatName, resources: { ...action.resources }, cpuset: [...action.cpuset], state: created.state });
        await this.runHook(slot, ctx, runtime, 'on_node_scale', vmName, action.tier);
        return;
      }
      case 'update_container': {
        const container = state.containers[action.tier];
        if (!container) throw new Error(`container '${action.tier}' is not on vm '${vmName}'`);
        await runtime.update(container.id, { cpuset: action.cpuset, memoryMb: action.resources.mem_units * memUnitMb });
        slot.where.containerId = container.id;
        let engineState = container.state;
        if (action.start) engineState = (await runtime.start(container.id)).state;
        ctx.cluster.containerSet(vmName, { ...container, state: engineState, resources: { ...action.resources }, cpuset: [...action.cpuset] });
        await this.runHook(slot, ctx, runtime, 'on_node_scale', vmName, action.tier);
        return;
      }
      case 'start_container': {
        const container = state.containers[action.tier];
        if (!container) throw new Error(`container '${action.tier}' is not on vm '${vmName}'`);
        slot.where.containerId = container.id;
        const started = await runtime.start(container.id);
        ctx.cluster.containerSet(vmName, { ...container, state: started.state });
        if (started.state !== 'running') throw new Error(`container '${action.tier}' on vm '${vmName}' is ${started.state} after start`);
        // A container that never started never ran its hook, and one that stopped restarts its processes.
        await this.runHook(slot, ctx, runtime, 'on_node_scale', vmName, action.tier);
        return;
      }
      case 'delete_container': {
        const container = state.containers[action.tier];
        if (container) {
          slot.where.containerId = container.id;
          await runtime.remove(container.id);
        }
        ctx.cluster.containerRemoved(vmName, action.tier);
        return;
      }
      case 'run_tier_hooks':
        await this.runHook(slot, ctx, runtime, 'on_dependency_scale', vmName, action.tier);
        return;
      case 'delete_vm': {
        const left = Object.keys(state.containers);
        if (left.length > 0) throw new Error(`vm '${vmName}' still runs ${left.join(', ')}`);
        await ctx.cloud.deleteVm(state.vm, {
          signal: ctx.signal,
          onProgress: (message) => ctx.report.actionProgress(slot.ref, message),
        });
        ctx.cluster.vmReleased(vmName);
        return;
      }
      default: {
        const unknown: never = action;
        throw new Error(`unknown action ${JSON.stringify(unknown)}`);
      }
    }
  }

  private async runHook(slot: Slot, ctx: RunContext, runtime: ContainerRuntime, event: HookEvent, vm: string, flatTier: string): Promise<void> {
    const tier = ctx.topology.tiers.get(flatTier);
    const spec = event === 'on_node_scale' ? tier?.onNodeScale : tier?.onDependencyScale;
    if (!tier || !spec) return;
    if (!this.ports.hooks) throw new Error(`tier '${flatTier}' has an ${event} hook but no hook runner is configured`);
    const container = ctx.cluster.vm(vm)?.containers[flatTier];
    if (!container) throw new Error(`container '${flatTier}' is not on vm '${vm}'`);
    const result: HookResult = await this.ports.hooks.run({
      event, spec, tier, vm, runtime, containerId: container.id, resources: container.resources,
      oldAllocation: ctx.oldPlacement, newAllocation: ctx.newPlacement,
      timeoutMs: tier.hookTimeoutMs ?? ctx.topology.infrastructure.hookTimeoutMs, signal: ctx.signal,
    });
    ctx.report.actionHookRan(slot.ref, result);
    if (!isHookSuccess(result)) {
      const why = result.cancelled ? 'was cancelled' : result.timedOut ? 'timed out' : `exited with code ${result.exitCode}`;
      throw new ActionFailure(`${event} hook '${result.hook}' of '${flatTier}' on vm '${vm}' ${why}`, 'hook_failed', true);
    }
  }
}

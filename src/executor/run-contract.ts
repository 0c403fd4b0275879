/**
 * What the executor and the owners of the state agree on: the executor reads and reports through
 * these, and writes neither the cluster nor the execution record itself.
 */
import { Placement } from '../domain/allocation';
import { ContainerState, VmState } from '../domain/cluster';
import { ActionError } from '../domain/execution';
import { HookResult } from '../domain/hook-result';
import { Topology } from '../domain/topology';
import { Vm } from '../domain/vm';
import { CloudDriver } from '../ports/cloud-driver';

/**
 * What runs where, as the executor reads it and reports its changes. The executor never writes the
 * cluster itself: whoever owns it (the Knowledge) applies these reports.
 */
export interface ClusterLedger {
  vm(name: string): VmState | undefined;
  vmCreated(vm: Vm): void;
  containerSet(vm: string, container: ContainerState): void;
  containerRemoved(vm: string, tier: string): void;
  /** The VM was given back to the cloud (an elastic cloud forgets it; a static pool keeps the node). */
  vmReleased(vm: string): void;
}

/** An action's place in the run: layer, then index in the layer. */
export interface ActionRef {
  layer: number;
  index: number;
}

/**
 * What the executor tells the owner of the execution record, as it happens. The executor never
 * writes the record itself.
 */
export interface RunReport {
  actionStarted(ref: ActionRef, where: { vm?: string; containerId?: string }): void;
  actionProgress(ref: ActionRef, message: string): void;
  actionHookRan(ref: ActionRef, result: HookResult): void;
  actionFinished(ref: ActionRef, status: 'succeeded' | 'failed', where: { vm?: string; containerId?: string }, error?: ActionError): void;
  /** Not run: after a failure (`skipped`) or a cancel (`cancelled`). */
  actionPassed(ref: ActionRef, status: 'skipped' | 'cancelled'): void;
}

export interface RunContext {
  topology: Topology;
  /** The cloud of the topology in force for this run. */
  cloud: CloudDriver;
  /** Told of every change as actions complete, so it tells the truth even when the run stops half-way. */
  cluster: ClusterLedger;
  report: RunReport;
  oldPlacement: Placement;
  newPlacement: Placement;
  signal: AbortSignal;
}

import { formatResources, Resources } from './resources';

/**
 * What the executor does, as data. The translator produces actions; the executor carries them out.
 * Every action can describe itself in the ecoware-executor wording (describeAction).
 */
export type Action =
  | CreateVmAction
  | DeleteVmAction
  | CreateContainerAction
  | UpdateContainerAction
  | DeleteContainerAction
  | StartContainerAction
  | RunTierHooksAction;

export interface CreateVmAction {
  type: 'create_vm';
  /** Placeholder name (`new_vm0` …) until the cloud names the instance. */
  vm: string;
  capacity: Resources;
}

export interface DeleteVmAction {
  type: 'delete_vm';
  vm: string;
}

export interface CreateContainerAction {
  type: 'create_container';
  vm: string;
  tier: string;
  resources: Resources;
  /** Cores of the VM pinned to the container. */
  cpuset: number[];
  /** `/etc/hosts` entries for `max_node: 1` dependencies: host name -> VM whose address it resolves to. */
  extra_hosts: { host: string; vm: string }[];
}

export interface UpdateContainerAction {
  type: 'update_container';
  vm: string;
  tier: string;
  from: Resources;
  resources: Resources;
  from_cpuset: number[];
  cpuset: number[];
  /** The container is not running (stopped behind the executor's back, or never started): start it after the resize. */
  start?: boolean;
}

/** A container the allocation keeps that is not running (`exited`, `created`): started again, same id, same cores. */
export interface StartContainerAction {
  type: 'start_container';
  vm: string;
  tier: string;
  /** The engine state it was found in. */
  from_state: string;
}

export interface DeleteContainerAction {
  type: 'delete_container';
  vm: string;
  tier: string;
  resources: Resources;
  cpuset: number[];
}

export interface RunTierHooksAction {
  type: 'run_tier_hooks';
  vm: string;
  tier: string;
  /** The dependency tiers whose change triggered the hook. */
  because: string[];
}

/** Ordered layers: a layer starts when the previous one has finished; actions within a layer run in parallel. */
export type Steps = Action[][];

export function describeAction(action: Action): string {
  switch (action.type) {
    case 'create_vm':
      return `create vm '${action.vm}'`;
    case 'delete_vm':
      return `delete vm '${action.vm}'`;
    case 'create_container':
      return `create container '${action.tier}' on vm '${action.vm}' with ${formatResources(action.resources)}`;
    case 'update_container':
      return `update container '${action.tier}' on vm '${action.vm}' with ${formatResources(action.resources)}`;
    case 'delete_container':
      return `delete container '${action.tier}' from vm '${action.vm}'`;
    case 'start_container':
      return `start container '${action.tier}' on vm '${action.vm}'`;
    case 'run_tier_hooks':
      return `run tier hook for container '${action.tier}' on vm '${action.vm}'`;
  }
}

/** True when the action gives cores back to its VM; within a layer these finish before any action takes cores. */
export function releasesCores(action: Action): boolean {
  if (action.type === 'delete_container') return true;
  if (action.type === 'update_container') return action.from_cpuset.some((c) => !action.cpuset.includes(c));
  return false;
}

import { Vm } from '../domain/vm';

export interface ProvisionOptions {
  signal?: AbortSignal;
  /** Progress lines for the execution record ("desired capacity 1 -> 2", "i-0abc InService"). */
  onProgress?: (message: string) => void;
}

/**
 * Where VMs come from. A static pool lists fixed nodes; an elastic cloud grows and shrinks.
 *
 * createVms(count) must return only when every new VM's engine answers, so the executor can place
 * containers on it at once. deleteVm is called only for VMs whose managed containers are gone.
 */
export interface CloudDriver {
  readonly kind: string;
  /** True when VMs can be created and deleted; a static pool is not elastic. */
  readonly isElastic: boolean;
  /** The VMs that exist now. */
  listVms(): Promise<Vm[]>;
  /** Most VMs this cloud can hold (static: the pool size); undefined = no limit of its own. */
  maxVms(): Promise<number | undefined>;
  createVms(count: number, options?: ProvisionOptions): Promise<Vm[]>;
  deleteVm(vm: Vm, options?: ProvisionOptions): Promise<void>;
}

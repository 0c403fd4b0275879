import { Resources } from '../../domain/resources';
import { Vm } from '../../domain/vm';
import { CloudDriver, ProvisionOptions } from '../../ports/cloud-driver';

/**
 * A cloud in memory: a static pool (`elastic: false`) or an elastic one that names new VMs
 * `fake-vm-1`, `fake-vm-2` … with an engine at `fake://<name>`. Records every call and fails the
 * next call of an operation when told to.
 */
export class FakeCloudDriver implements CloudDriver {
  readonly kind = 'fake';
  readonly isElastic: boolean;
  readonly vms: Vm[];
  readonly createCalls: number[] = [];
  readonly deleteCalls: string[] = [];
  maxVmsAnswer?: number;
  private readonly failures = new Map<string, Error[]>();
  private sequence = 0;

  constructor(options: { elastic: boolean; vms?: Vm[]; vmSize?: Resources; maxVms?: number }, private readonly vmSize: Resources = options.vmSize ?? { cpu_cores: 4, mem_units: 8 }) {
    this.isElastic = options.elastic;
    this.vms = [...(options.vms ?? [])];
    this.maxVmsAnswer = options.maxVms;
  }

  failNext(op: 'listVms' | 'maxVms' | 'createVms' | 'deleteVm', error: Error): void {
    this.failures.set(op, [...(this.failures.get(op) ?? []), error]);
  }

  async listVms(): Promise<Vm[]> {
    this.enter('listVms');
    return this.vms.map((vm) => ({ ...vm }));
  }

  async maxVms(): Promise<number | undefined> {
    this.enter('maxVms');
    return this.maxVmsAnswer;
  }

  async createVms(count: number, options?: ProvisionOptions): Promise<Vm[]> {
    this.createCalls.push(count);
    this.enter('createVms');
    if (!this.isElastic) throw new Error('a static pool cannot create VMs');
    const created: Vm[] = [];
    for (let i = 0; i < count; i++) {
      const name = `fake-vm-${++this.sequence}`;
      created.push({ name, capacity: { ...this.vmSize }, engine: { kind: 'docker', url: `fake://${name}` }, address: `10.0.0.${this.sequence}`, instanceId: name });
    }
    options?.onProgress?.(`${count} new VM(s) ready`);
    this.vms.push(...created);
    return created.map((vm) => ({ ...vm }));
  }

  async deleteVm(vm: Vm, options?: ProvisionOptions): Promise<void> {
    this.deleteCalls.push(vm.name);
    this.enter('deleteVm');
    if (!this.isElastic) return;
    const at = this.vms.findIndex((v) => v.name === vm.name);
    if (at >= 0) this.vms.splice(at, 1);
    options?.onProgress?.(`${vm.name} terminated`);
  }

  private enter(op: string): void {
    const queued = this.failures.get(op);
    const failure = queued?.shift();
    if (queued && queued.length === 0) this.failures.delete(op);
    if (failure) throw failure;
  }
}

/** A static node of the fake cloud: `name` with an engine at `fake://<name>`. */
export function fakeNode(name: string, capacity: Resources): Vm {
  return { name, capacity, engine: { kind: 'docker', url: `fake://${name}` }, address: `10.1.0.${name.length}` };
}

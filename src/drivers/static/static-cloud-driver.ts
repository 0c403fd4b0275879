import { UnsatisfiableError } from '../../domain/errors';
import { Resources } from '../../domain/resources';
import { StaticCloudConfig, StaticNodeConfig } from '../../domain/topology';
import { EngineEndpoint, Vm } from '../../domain/vm';
import { CloudDriver, ProvisionOptions } from '../../ports/cloud-driver';
import { ContainerRuntimeFactory } from '../../ports/container-runtime';

/**
 * A fixed pool of nodes, each with its container engine. Nothing is created or destroyed: a plan needing more VMs than the
 * pool holds is refused, and a VM the executor empties stays in the pool, idle.
 */
export class StaticCloudDriver implements CloudDriver {
  readonly kind = 'static';
  readonly isElastic = false;
  /** Addresses the engines gave once; a node does not move while the topology stands. */
  private readonly addresses = new Map<string, string>();

  constructor(
    private readonly config: StaticCloudConfig,
    private readonly vmSize: Resources,
    private readonly runtimeFor: ContainerRuntimeFactory,
  ) {}

  async listVms(): Promise<Vm[]> {
    return Promise.all(this.config.nodes.map(async (node) => ({
      name: node.name,
      capacity: nodeCapacity(node, this.vmSize),
      engine: endpointOf(node),
      address: node.address ?? (await this.engineAddress(node)),
      ...(node.labels ? { labels: { ...node.labels } } : {}),
    })));
  }

  async maxVms(): Promise<number | undefined> {
    return this.config.nodes.length;
  }

  async createVms(count: number, _options?: ProvisionOptions): Promise<Vm[]> {
    const size = this.config.nodes.length;
    throw new UnsatisfiableError(
      `the static pool has ${size} node${size === 1 ? '' : 's'} (${this.config.nodes.map((n) => n.name).join(', ')}); ` +
      `a plan needing ${count} more VM${count === 1 ? '' : 's'} can't be honoured`,
    );
  }

  async deleteVm(_vm: Vm, _options?: ProvisionOptions): Promise<void> {
    // A static node outlives its containers: emptied, it waits in the pool for the next plan.
  }

  /**
   * Where containers on other nodes reach this one's published ports. An engine that doesn't answer
   * leaves the address unknown rather than failing the listing: acting on that node fails on its own.
   */
  private async engineAddress(node: StaticNodeConfig): Promise<string | undefined> {
    const known = this.addresses.get(node.name);
    if (known !== undefined) return known;
    try {
      const address = await this.runtimeFor({ engine: endpointOf(node) }).hostAddress();
      if (address !== undefined) this.addresses.set(node.name, address);
      return address;
    } catch {
      return undefined;
    }
  }
}

export function nodeCapacity(node: StaticNodeConfig, vmSize: Resources): Resources {
  return { cpu_cores: node.cpu_cores ?? vmSize.cpu_cores, mem_units: node.mem_units ?? vmSize.mem_units };
}

/** A node's engine, with its TLS client certificates when it names a folder of them. */
export function endpointOf(node: StaticNodeConfig): EngineEndpoint {
  if (node.engine) return { ...node.engine };
  return { kind: 'docker', url: node.docker ?? '', ...(node.dockerCertPath !== undefined ? { certPath: node.dockerCertPath } : {}) };
}

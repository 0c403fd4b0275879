import { Allocator } from '../allocator/allocator';
import { Cluster } from '../domain/cluster';
import { ConflictError } from '../domain/errors';
import { NodePool } from '../domain/node-pool';
import { Resources } from '../domain/resources';
import { CloudConfig, Topology } from '../domain/topology';
import { CloudDriver } from '../ports/cloud-driver';
import { ContainerRuntimeFactory } from '../ports/container-runtime';
import { ExecutionStore } from '../ports/execution-store';
import { HookRunner } from '../ports/hook-runner';
import { HookSource } from '../ports/hook-source';
import { ProcessDefinitionStore } from '../ports/process-definition-store';
import { NodeStateStore } from '../ports/node-state-store';
import { TopologyStore } from '../ports/state-store';

/** The drivers and stores the use cases work through; built once by the composition root. */
export interface Services {
  allocator: Allocator;
  /** The engine of a VM, by its endpoint (one client per endpoint). */
  runtimeFor: ContainerRuntimeFactory;
  cloudFor(config: CloudConfig, vmSize: Resources): CloudDriver;
  hookSource: HookSource;
  hookRunner: HookRunner;
  topologies: TopologyStore;
  executions: ExecutionStore;
  processDefinitions: ProcessDefinitionStore;
  /** Cordons, kept across restarts. */
  nodeStates: NodeStateStore;
  /** Docker endpoint of the implicit `local` node. */
  localDocker: string;
}

/** The topology in force, the cloud it runs on, and what runs where. */
export interface Deployment {
  topology: Topology;
  cloud: CloudDriver;
  cluster: Cluster;
}

/**
 * The K of MAPE-K: what the executor knows. Replaced as a whole when a topology is loaded, so a
 * refused topology leaves everything as it was.
 */
export class Knowledge {
  deployment?: Deployment;
  /** Health, cordons and drains of the nodes; outlives topology loads (keyed by VM name). */
  readonly nodes = new NodePool();

  requireDeployment(): Deployment {
    if (!this.deployment) throw new ConflictError('no topology is loaded: PUT /api/topology first');
    return this.deployment;
  }
}

import { Allocator } from '../../allocator';
import { Cluster, ContainerState, VmState, vmStateOf } from '../../domain/cluster';
import { NodePool } from '../../domain/node-pool';
import { ConflictError, NotFoundError, StartingError } from '../../domain/errors';
import { Resources } from '../../domain/resources';
import { CloudConfig, Topology } from '../../domain/topology';
import { Vm } from '../../domain/vm';
import { ClusterLedger } from '../../executor/run-contract';
import { CloudDriver } from '../../ports/cloud-driver';
import { ContainerRuntimeFactory } from '../../ports/container-runtime';
import { SystemContainerPorts } from '../../executor/system-containers';
import { ExecutionStore } from '../../ports/execution-store';
import { HookRunner } from '../../ports/hook-runner';
import { TopologyFollower } from '../../ports/topology-follower';
import { NodeStateStore } from '../../ports/node-state-store';
import { HookSource } from '../../ports/hook-source';
import { ProcessDefinitionStore } from '../../ports/process-definition-store';
import { TopologyStore } from '../../ports/state-store';
import { JobView } from '../jobs/job-holdings';

/** The drivers and stores the use cases work through; built once by the composition root. */
export interface Services {
  allocator: Allocator;
  /** The runtime of a VM's engine, made by the driver of its kind (drivers/runtime-drivers.ts), one client per endpoint. */
  runtimeFor: ContainerRuntimeFactory;
  /** A promise where the driver's library is loaded on first use. */
  cloudFor(config: CloudConfig, vmSize: Resources): CloudDriver | Promise<CloudDriver>;
  hookSource: HookSource;
  hookRunner: HookRunner;
  /** Told of each topology put in force (restarts the hooks refresh); none in tests that need no schedule. */
  hookSchedule?: TopologyFollower;
  topologies: TopologyStore;
  executions: ExecutionStore;
  processDefinitions: ProcessDefinitionStore;
  /** Cordons, kept across restarts. */
  nodeStates?: NodeStateStore;
  /** The node pool's loops (health, drift repair), told of each topology put in force like the hook schedule. */
  nodeLoops?: TopologyFollower;
  /** Docker endpoint of the implicit `local` node. */
  localDocker: string;
  /** Host paths tiers may mount only under this directory (`--allow-bind`). */
  allowBindRoot?: string;
  /** Host ports, readiness and the port record for the containers of systems (compose files). */
  systemContainers?: SystemContainerPorts;
  /** What running jobs hold and queued jobs wait for (plans leave the first alone); none: NO_JOBS. */
  jobs?: JobView;
}

/** The topology in force, the cloud it runs on, and what runs where. */
export interface Deployment {
  topology: Topology;
  cloud: CloudDriver;
  cluster: Cluster;
}

/**
 * The K of MAPE-K: what the executor knows, and its only writer. Replaced as a whole when a topology
 * is loaded, so a refused topology leaves everything as it was. Between loads the cluster changes
 * only through verbs named for what happened: the ledger calls the executor makes (`vmCreated`,
 * `containerSet`, `containerRemoved`, `vmReleased`), and what the daemon learns otherwise
 * (`clusterObserved`, `vmObserved`, `vmLost`, `vmsJoined`).
 */
export class Knowledge implements ClusterLedger {
  private current?: Deployment;
  /** Why no topology is in force yet although one may be persisted: set from start until the restore settles. */
  private restoring?: { reason: string; retryAfterS: number };
  /** Health, cordons and drains of the nodes; outlives topology loads (keyed by VM name). */
  readonly nodes = new NodePool();

  get deployment(): Readonly<Deployment> | undefined {
    return this.current;
  }

  requireDeployment(): Readonly<Deployment> {
    if (this.current) return this.current;
    // A planner told 409 "PUT a topology first" would do the wrong thing while one is being restored.
    if (this.restoring) throw new StartingError(`the daemon is starting: ${this.restoring.reason}`, this.restoring.retryAfterS);
    throw new ConflictError('no topology is loaded: PUT /api/topology first');
  }

  /** The persisted topology is (still) being put back in force; until `restoreSettled`, its absence is a 503, not a 409. */
  restorePending(reason: string, retryAfterS = 1): void {
    this.restoring = { reason, retryAfterS };
  }

  /** The restore is over: restored, nothing to restore, or refused for good. */
  restoreSettled(): void {
    this.restoring = undefined;
  }

  /** Puts a topology in force with the cloud it runs on and what runs there now. */
  putInForce(deployment: Deployment): void {
    this.current = deployment;
  }

  /**
   * The topology in force with an app added or removed: the cloud and what runs where stay as they
   * are (an app edit changes neither the infrastructure nor the engines).
   */
  appsEdited(topology: Topology): void {
    this.requireDeployment();
    this.current = { ...this.current!, topology };
  }

  /**
   * The fleet was read again (observe-cluster.ts): the VMs and what their engines report, in place
   * of what was known (an unreachable VM is observed as it was known).
   */
  clusterObserved(observed: Cluster): void {
    this.requireDeployment();
    this.current!.cluster = observed;
  }

  /** One VM's engine was read afresh (a node back from unreachable): its containers as reported. */
  vmObserved(name: string, containers: Record<string, ContainerState>): void {
    const state = this.cluster()[name];
    if (state) this.cluster()[name] = { vm: state.vm, containers };
  }

  /**
   * A VM was lost. `gone` (an elastic cloud no longer lists it): it leaves the cluster, it will not
   * come back. Otherwise (unreachable too long, its tiers to be placed elsewhere): it stays, known
   * to run nothing, and is marked replaced, so that what its engine still runs is removed when it
   * answers again.
   */
  vmLost(name: string, cause: { gone: boolean }): void {
    const cluster = this.cluster();
    const state = cluster[name];
    if (!state) return;
    if (cause.gone) {
      delete cluster[name];
      return;
    }
    cluster[name] = { vm: state.vm, containers: {} };
    this.nodes.markReplaced(name);
  }

  /** VMs the cloud added by itself (a group's replacement) join the cluster, running nothing. */
  vmsJoined(vms: readonly Vm[]): void {
    const cluster = this.cluster();
    for (const vm of vms) if (!cluster[vm.name]) cluster[vm.name] = { vm, containers: {} };
  }

  vm(name: string): VmState | undefined {
    return this.current ? vmStateOf(this.current.cluster, name) : undefined;
  }

  /** The node of that name in the deployment's fleet; 404 naming the fleet's nodes otherwise. */
  requireVm(name: string): VmState {
    const { cluster } = this.requireDeployment();
    const state = vmStateOf(cluster, name);
    if (!state) throw new NotFoundError(`node '${name}' is not in the fleet (nodes: ${Object.keys(cluster).join(', ')})`);
    return state;
  }

  vmCreated(vm: Vm): void {
    this.cluster()[vm.name] = { vm, containers: {} };
  }

  containerSet(vm: string, container: ContainerState): void {
    const state = this.cluster()[vm];
    if (!state) throw new Error(`vm '${vm}' is not in the fleet`);
    state.containers[container.tier] = container;
  }

  containerRemoved(vm: string, tier: string): void {
    const state = this.cluster()[vm];
    if (state) delete state.containers[tier];
  }

  vmReleased(vm: string): void {
    // An elastic cloud terminated it; a static pool's node stays, empty, for later plans.
    if (this.requireDeployment().cloud.isElastic) delete this.cluster()[vm];
  }

  private cluster(): Cluster {
    return this.requireDeployment().cluster;
  }
}

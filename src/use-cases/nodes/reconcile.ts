import { describeAction, Steps } from '../../domain/action';
import { Decision } from '../execution/decide';
import { Placement } from '../../domain/allocation';
import { Cluster, placementOfCluster } from '../../domain/cluster';
import { Drift, findDrift } from '../../domain/drift';
import { repairSteps } from '../../translator/repair-drift';
import { Deployment, Knowledge, Services } from '../cluster/knowledge';
import { observeVms } from '../cluster/observe-cluster';
import { Execution } from '../../domain/execution';
import { ExecutionQueue } from '../execution/execution-queue';
import { SerialQueue } from '../execution/serial-queue';
import { log } from '../../log';
import { PeriodicPass } from '../daemon/periodic-pass';
import { NO_JOBS } from '../jobs/job-holdings';
import { heldByVm, occupiedCores } from '../jobs/held-by-jobs';

/** What a reconcile execution carries out, decided when its turn comes. */
export interface Repair {
  drift: Drift[];
  steps: Steps;
  /** The placement it restores (the allocation as recorded). */
  target: Placement;
}

/**
 * Reads every reachable VM in full (one list and one inspect per container): the containers of
 * the topology's tiers as the engines report them. VMs in `skip`, and VMs whose engine fails to
 * answer, are copied from `known` (no drift is looked for there).
 */
export async function observeEngines(deployment: Readonly<Deployment>, services: Pick<Services, 'runtimeFor'>, skip: ReadonlySet<string>):
  Promise<{ observed: Cluster; unanswered: Set<string> }> {
  const { cluster, topology } = deployment;
  const vms = Object.values(cluster).map((state) => state.vm);
  const read = await observeVms(vms, services.runtimeFor, topology.infrastructure.memUnitMb, new Set(topology.tiers.keys()), skip);
  const unanswered = new Set<string>([...skip, ...read.unanswered.keys()]);
  const observed = Object.fromEntries(Object.entries(cluster).map(([name, known]) => {
    const containers = read.observed.get(name);
    return [name, containers ? { vm: known.vm, containers } : known] as const;
  }));
  return { observed, unanswered };
}

/**
 * Drift repair (SPEC §8): compares the engines with the allocation and undoes what changed behind
 * the executor's back — a stopped container is started, a removed one re-created with its cpuset
 * and memory, a changed cpuset or memory limit set back, a managed container of the topology that
 * the allocation does not list removed. Unreachable nodes are left alone. A pass that finds no
 * drift records nothing; one that finds some submits an execution of kind `reconcile`, which looks
 * again when its turn comes (a plan queued before it may have changed things) and lists the drift.
 */
export class Reconciler {
  constructor(
    private readonly knowledge: Knowledge,
    private readonly services: Services,
    /** The plan queue: engines are compared with the record only between executions, never mid-way through one. */
    private readonly queue: SerialQueue,
    /** Where a repair is carried out, as an execution of kind `reconcile` whose repair is decided on its turn. */
    private readonly executions: ExecutionQueue,
  ) {}

  /** What differs now, without changing anything. */
  async findDrift(): Promise<Drift[]> {
    const deployment = this.knowledge.deployment;
    if (!deployment) return [];
    return (await this.observeDrift(deployment)).drift;
  }

  /** One pass: the finished execution when drift was found and repaired, undefined otherwise. */
  async pass(): Promise<Execution | undefined> {
    const drift = await this.queue.run(() => this.findDrift());
    if (drift.length === 0) return undefined;
    const { done } = await this.executions.submit({ kind: 'reconcile', prepare: () => repairDecision(this.knowledge, () => this.prepare()) });
    return done;
  }

  /** Runs on the plan queue, right before the repair: the drift as it is now, and the actions undoing it. */
  async prepare(): Promise<Repair> {
    const deployment = this.knowledge.requireDeployment();
    const { observed, drift } = await this.observeDrift(deployment);
    const target = placementOfCluster(deployment.cluster);
    // Never back onto cores running jobs are pinned to (their containers are not the topology's: no drift of theirs is looked for).
    const held = heldByVm((this.services.jobs ?? NO_JOBS).holdings(), deployment.topology.infrastructure.memUnitMb);
    const pinsCores = (vm: string) => this.services.runtimeFor(deployment.cluster[vm].vm).pinsCores;
    const steps = repairSteps(deployment.topology, deployment.cluster, drift, occupiedCores(held, (vm) => !!deployment.cluster[vm] && pinsCores(vm)));
    // Containers the allocation does not list are taken into the record so the executor can remove them by id.
    for (const d of drift) if (d.kind === 'unknown') this.knowledge.containerSet(d.vm, observed[d.vm].containers[d.tier]);
    return { drift, steps, target };
  }

  /** The engines read now (the unreachable nodes skipped), and how they differ from the record. */
  private async observeDrift(deployment: Readonly<Deployment>): Promise<{ observed: Cluster; drift: Drift[] }> {
    const skip = new Set(this.knowledge.nodes.unreachable());
    const { observed, unanswered } = await observeEngines(deployment, this.services, skip);
    const pinsCores = (vm: string) => this.services.runtimeFor(deployment.cluster[vm].vm).pinsCores;
    return { observed, drift: findDrift(deployment.cluster, observed, deployment.topology.infrastructure.memUnitMb, unanswered, pinsCores) };
  }
}

/** Runs `pass` every `reconcile_interval_s` (0 = never); a pass still running when the next is due is not doubled. */
export class ReconcileLoop {
  private readonly loop: PeriodicPass;

  constructor(private readonly knowledge: Knowledge, reconciler: Reconciler) {
    this.loop = new PeriodicPass('reconcile pass', async () => {
      const execution = await reconciler.pass();
      if (execution) log.warn(`drift repaired by execution ${execution.id} (${execution.status})`);
    });
  }

  start(): void {
    this.loop.start(this.knowledge.deployment?.topology.infrastructure.nodePool.reconcileIntervalMs ?? 0);
  }

  stop(): void {
    this.loop.stop();
  }

  settled(): Promise<void> {
    return this.loop.settled();
  }
}

/** A repair as the decision of an execution: the steps, the placement it restores, and the drift it found. */
export async function repairDecision(knowledge: Knowledge, prepare: () => Promise<Repair>): Promise<Decision> {
  const started = Date.now();
  const before = placementOfCluster(knowledge.requireDeployment().cluster);
  const { drift, steps, target } = await prepare();
  return { target, before, drift, translation: { steps, actions: steps.map((layer) => layer.map(describeAction)) }, timingsMs: { translate: Date.now() - started } };
}

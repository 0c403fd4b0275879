import { errorMessage } from '../../domain/errors';
import { log } from '../../log';
import { TopologyFollower } from '../../ports/topology-follower';
import { DaemonReadiness } from './daemon-readiness';
import { ExecutionRetention } from '../execution/execution-retention';
import { NodeAdmin } from '../nodes/node-admin';
import { NodeLoops } from '../nodes/node-loops';
import { PlanExecutions } from '../execution/plan-executions';
import { TopologyRestore } from '../topology/restore-topology';
import { SerialQueue } from '../execution/serial-queue';
import { Systems } from '../systems/systems';

/** What the daemon starts and stops, built by the composition root. */
export interface DaemonParts {
  readiness: DaemonReadiness;
  restore: TopologyRestore;
  retention: ExecutionRetention;
  nodeAdmin: NodeAdmin;
  executions: PlanExecutions;
  systems: Systems;
  queue: SerialQueue;
  hookSchedule?: TopologyFollower;
  nodeLoops: NodeLoops;
  /**
   * The job queue: started once the topology is restored (what jobs a stopped daemon left is taken
   * back then), stopped first at shutdown, leaving running job containers running.
   */
  jobs?: { start(): Promise<void>; stop(): Promise<void> };
  /** How long the running execution may take to finish at shutdown before it is stopped. */
  shutdownTimeoutMs: number;
  /** Released last, in this order, once nothing runs (bus subscribers, the allocator's worker, the state). */
  release: Array<() => unknown>;
}

/** The API's port as the lifecycle closes it. */
export interface Port {
  close(): Promise<void>;
}

/**
 * The order in which the daemon starts and stops. Before the port serves the API: the cordons are
 * put back, retention runs, and requests needing the topology answer "starting". Once it serves:
 * executions a stopped daemon left unfinished are marked, the topology is restored, then systems
 * left half-way are marked (`/readyz` follows each step). At shutdown: `/readyz` and plans answer
 * 503, loops stop, the running execution may finish (within the timeout) while reads still answer,
 * then the port closes and the resources are released.
 */
export class DaemonLifecycle {
  private port?: Port;
  private ready: Promise<void> = Promise.resolve();
  private closing?: Promise<void>;
  private jobsStarted: Promise<void> = Promise.resolve();

  constructor(private readonly parts: DaemonParts) {}

  /** Before the port serves the API. */
  async prepare(): Promise<void> {
    const { nodeAdmin, retention, restore } = this.parts;
    await nodeAdmin.restore();
    retention.start();
    restore.begin();
  }

  /** The port serves the API: the state is restored; resolves when it is (a failure is logged, and rejects). */
  serving(port: Port): Promise<void> {
    const { retention, executions, readiness, restore, systems } = this.parts;
    this.port = port;
    this.ready = (async () => {
      await retention.pruneNow();
      const interrupted = await executions.recoverInterrupted();
      if (interrupted > 0) log.warn({ interrupted }, 'marked executions a stopped daemon left unfinished as failed (interrupted)');
      readiness.executionsRecovered();
      await restore.run();
      readiness.topologyRestoreAttempted();
      // Plans a stopped daemon left queued go on, in their order, before any plan sent since.
      const resumed = executions.resumeQueued();
      if (resumed > 0) log.warn({ resumed }, 'plans a stopped daemon left queued are carried on in their order');
      const interruptedSystems = await systems.recoverInterrupted();
      if (interruptedSystems > 0) log.warn({ systems: interruptedSystems }, 'systems were left starting or deleting by a stopped daemon');
      // In the background: taking jobs back asks every node's engine, and an engine that does not
      // answer must not hold up the daemon's readiness.
      this.jobsStarted = (this.parts.jobs?.start() ?? Promise.resolve())
        .catch((e) => log.error({ err: errorMessage(e) }, 'taking back the jobs a stopped daemon left failed'));
    })();
    this.ready.catch((e) => log.error({ err: errorMessage(e) }, 'restoring the state failed'));
    return this.ready;
  }

  /** Stops in order (see above); once only, later calls get the same promise. */
  close(): Promise<void> {
    this.closing ??= this.stop();
    return this.closing;
  }

  private async stop(): Promise<void> {
    const { readiness, restore, retention, hookSchedule, nodeLoops, executions, queue, shutdownTimeoutMs } = this.parts;
    readiness.shuttingDown();
    restore.close();
    retention.stop();
    hookSchedule?.stop();
    nodeLoops.stop();
    await nodeLoops.settled();
    await this.ready.catch(() => undefined);
    // Running job containers stay: the next start re-attaches to them (docs/jobs.md).
    await this.jobsStarted;
    await this.parts.jobs?.stop();
    // The port stays open while the running execution finishes: probes see 503 on /readyz,
    // plans get 503, reads still answer.
    await executions.shutdown(shutdownTimeoutMs);
    await queue.idle();
    await this.port?.close();
    await this.release();
  }

  /** The port could not open: what `prepare` started stops, and the resources are released. */
  async abandon(): Promise<void> {
    this.parts.restore.close();
    this.parts.retention.stop();
    await this.release();
  }

  private async release(): Promise<void> {
    for (const release of this.parts.release) await release();
  }
}

import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import { DomainEvent, EventBus } from '../../domain/events';
import { FINISHED_STATUSES, isFinished } from '../../domain/execution';

/** The action type from its one-line description (`create container 'x' on vm 'y' …` → `create_container`). */
export function actionTypeOf(description: string): string {
  const match = /^(create|update|delete) (vm|container)\b/.exec(description);
  if (match) return `${match[1]}_${match[2]}`;
  if (description.startsWith('run tier hook')) return 'run_tier_hooks';
  return description.split(' ').slice(0, 2).join('_') || 'unknown';
}

/** What the jobs' gauges read at each scrape. */
export interface JobMetricsSource {
  counts(): Partial<Record<string, number>>;
  demand(): { cores: number; mem_units: number };
  oldestQueuedSeconds(): number;
}

/**
 * The daemon's Prometheus metrics (SPEC §7), in a registry of its own so several daemons in one
 * process (tests) do not collide. Execution, action and drift-repair metrics follow the EventBus;
 * the others are set by whoever knows the value (`observeSolve`) or read at each scrape (the queue
 * depth and node counts given to the constructor).
 */
export class Metrics {
  readonly registry = new Registry();
  private readonly executions = new Counter({ name: 'ecoware_executions_total', help: 'Executions that finished, by final status', labelNames: ['status', 'kind'], registers: [this.registry] });
  private readonly executionDuration = new Histogram({ name: 'ecoware_execution_duration_seconds', help: 'Time from an execution starting to run to its end', labelNames: ['kind'], buckets: [0.1, 0.5, 1, 2, 5, 10, 30, 60, 120, 300, 600], registers: [this.registry] });
  private readonly actionDuration = new Histogram({ name: 'ecoware_action_duration_seconds', help: 'Duration of one action, by type', labelNames: ['type', 'status'], buckets: [0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 300], registers: [this.registry] });
  private readonly solverDuration = new Histogram({ name: 'ecoware_solver_duration_seconds', help: 'Time the allocator took for one plan', buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 15], registers: [this.registry] });
  private readonly nodes: Gauge;
  private readonly driftRepairs = new Counter({ name: 'ecoware_drift_repairs_total', help: 'Drift found on the engines and repaired, by kind', labelNames: ['kind'], registers: [this.registry] });
  private readonly buildInfo = new Gauge({ name: 'ecoware_build_info', help: 'Version of the running daemon', labelNames: ['version'], registers: [this.registry] });
  private readonly started = new Map<string, number>();
  private readonly jobsFinished = new Counter({ name: 'ecoware_jobs_finished_total', help: 'Jobs that reached a terminal state, by state', labelNames: ['state'], registers: [this.registry] });
  private readonly jobQueueWait = new Histogram({ name: 'ecoware_job_queue_wait_seconds', help: 'Time from a job joining the queue to its container running', buckets: [0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 300, 1800, 3600], registers: [this.registry] });

  /**
   * `queueDepth` and `nodes` are read at each scrape; without `nodes` every count is 0. The execution
   * series of every finished status are listed from the first scrape.
   */
  constructor(options: { version?: string; queueDepth?: () => number; nodes?: () => Partial<Record<'ready' | 'unreachable' | 'lost', number>> } = {}) {
    collectDefaultMetrics({ register: this.registry });
    this.buildInfo.set({ version: options.version ?? 'unknown' }, 1);
    const readNodes = options.nodes;
    const setNodes = (gauge: Gauge, counts: Partial<Record<string, number>>) => {
      for (const health of ['ready', 'unreachable', 'lost']) gauge.set({ health }, counts[health] ?? 0);
    };
    this.nodes = new Gauge({
      name: 'ecoware_nodes', help: 'Nodes of the pool, by health', labelNames: ['health'], registers: [this.registry],
      collect() { if (readNodes) setNodes(this, readNodes()); },
    });
    setNodes(this.nodes, {});
    const read = options.queueDepth;
    // Registered with its reading: the registry holds it, nothing here needs it again.
    new Gauge({
      name: 'ecoware_queue_depth', help: 'Plans and topology loads waiting or running', registers: [this.registry],
      collect() { if (read) this.set(read()); },
    });
    this.primeExecutions();
  }

  /** Follows executions and actions on the bus; returns the unsubscribe function. */
  follow(bus: EventBus): () => void {
    return bus.subscribe((event) => this.observe(event));
  }

  observe(event: DomainEvent): void {
    const now = Date.parse(event.at) || Date.now();
    if (event.type === 'execution') {
      if (event.status === 'running') this.started.set(event.id, now);
      if (isFinished(event.status)) {
        this.executions.inc({ status: event.status, kind: event.kind });
        if (event.status === 'succeeded') for (const kind of event.drift ?? []) this.countDriftRepair(kind);
        const start = this.started.get(event.id);
        if (start !== undefined) this.executionDuration.observe({ kind: event.kind }, (now - start) / 1000);
        this.started.delete(event.id);
      }
    } else if (event.type === 'job') {
      if (['succeeded', 'failed', 'timed_out', 'cancelled'].includes(event.status)) this.jobsFinished.inc({ state: event.status });
    } else if (event.type === 'action') {
      const key = `${event.execution_id}/${event.layer}/${event.index}`;
      if (event.status === 'running') this.started.set(key, now);
      else if (event.status === 'succeeded' || event.status === 'failed') {
        const start = this.started.get(key);
        if (start !== undefined) this.actionDuration.observe({ type: actionTypeOf(event.description), status: event.status }, (now - start) / 1000);
        this.started.delete(key);
      } else if (event.status !== 'pending') this.started.delete(key);
    }
  }

  /**
   * The jobs' gauges, read at each scrape: jobs by state (the open ones: queued, starting,
   * running), the cores and memory units queued jobs ask for, the age of the oldest queued job.
   */
  followJobs(source: JobMetricsSource): void {
    new Gauge({
      name: 'ecoware_jobs', help: 'Jobs not yet finished, by state', labelNames: ['state'], registers: [this.registry],
      collect() {
        const counts = source.counts();
        for (const state of ['queued', 'starting', 'running']) this.set({ state }, counts[state] ?? 0);
      },
    });
    new Gauge({
      name: 'ecoware_job_queue_demand', help: 'What queued jobs ask for, by resource (cores, mem_units)', labelNames: ['resource'], registers: [this.registry],
      collect() {
        const demand = source.demand();
        this.set({ resource: 'cores' }, demand.cores);
        this.set({ resource: 'mem_units' }, demand.mem_units);
      },
    });
    new Gauge({
      name: 'ecoware_job_oldest_queued_seconds', help: 'How long the oldest queued job has waited (0 when none waits)', registers: [this.registry],
      collect() { this.set(source.oldestQueuedSeconds()); },
    });
    for (const state of ['succeeded', 'failed', 'timed_out', 'cancelled']) this.jobsFinished.inc({ state }, 0);
  }

  observeJobQueueWait(seconds: number): void {
    this.jobQueueWait.observe(seconds);
  }

  observeSolve(seconds: number): void {
    this.solverDuration.observe(seconds);
  }

  countDriftRepair(kind: string): void {
    this.driftRepairs.inc({ kind });
  }

  /** Touches every labelled series once so a scrape lists them before the first event. */
  primeExecutions(statuses: readonly string[] = FINISHED_STATUSES): void {
    for (const status of statuses) this.executions.inc({ status, kind: 'plan' }, 0);
  }
}

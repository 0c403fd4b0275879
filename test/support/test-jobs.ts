import { JobDemand, JobHolding, JobView } from '../../src/use-cases/jobs/job-holdings';

/**
 * The jobs as a test sets them: what runs where (`hold`, `end`) and what waits (`demand`). It
 * tells listeners of each change, as the jobs part does, and counts the pokes it gets.
 */
export class TestJobs implements JobView {
  running: JobHolding[] = [];
  queued: JobDemand[] = [];
  pokes = 0;
  private readonly listeners = new Set<() => void>();

  holdings(): JobHolding[] {
    return this.running.map((h) => ({ ...h, cpuset: [...h.cpuset] }));
  }

  unplacedDemand(): JobDemand[] {
    return this.queued.map((d) => ({ ...d }));
  }

  poke(): void {
    this.pokes++;
  }

  onChange(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => { this.listeners.delete(listener); };
  }

  hold(h: Partial<JobHolding> & Pick<JobHolding, 'job' | 'vm' | 'cpuset'>): void {
    this.running.push({ template: 'batch', cores: h.cpuset.length, memoryMb: 16, ...h });
    this.changed();
  }

  end(job: string): void {
    this.running = this.running.filter((h) => h.job !== job);
    this.changed();
  }

  demand(d: Partial<JobDemand> & Pick<JobDemand, 'job' | 'cores' | 'memUnits'>): void {
    this.queued.push({ template: 'batch', memoryMb: d.memUnits * 16, queuedSince: new Date().toISOString(), ...d });
  }

  private changed(): void {
    for (const l of [...this.listeners]) l();
  }
}

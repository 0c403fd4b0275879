/**
 * What the jobs hold and what they wait for, as the rest of the daemon sees it: plans leave running
 * jobs' cores and memory alone, and the fleet grows for queued demand that fits nowhere.
 */

/** Cores and memory one running (or starting) job holds on one VM. */
export interface JobHolding {
  job: string;
  template: string;
  vm: string;
  /** The cores it is pinned to (empty on a runtime that does not pin cores). */
  cpuset: number[];
  cores: number;
  memoryMb: number;
  /** When its attempt times out, if it has a timeout (ISO 8601). */
  deadline?: string;
}

/** A queued job that fits on no node now. */
export interface JobDemand {
  job: string;
  template: string;
  cores: number;
  memUnits: number;
  memoryMb: number;
  selector?: Record<string, string>;
  /** ISO 8601. */
  queuedSince: string;
}

/** The jobs, read-only, for plans and the fleet. */
export interface JobView {
  /** Cores and memory running (and starting) jobs hold, by VM. */
  holdings(): JobHolding[];
  /** Queued jobs that fit on no node now (for growing the fleet). */
  unplacedDemand(): JobDemand[];
  /** Called when the tiers' allocation changed, or a node joined or left: try to start queued jobs. */
  poke(): void;
  /**
   * Optional: calls `listener` when what the jobs hold changes (a job started or ended), and returns
   * the way to stop. A plan waiting for jobs' cores (`job_yield_s`) decides again at once on it;
   * without it, the plan looks again every second.
   */
  onChange?(listener: () => void): () => void;
}

/** No jobs: what a daemon without the jobs part, and the tests of plans alone, see. */
export const NO_JOBS: JobView = { holdings: () => [], unplacedDemand: () => [], poke: () => undefined };

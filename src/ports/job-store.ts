import { Job, JobStatus, JobTemplate } from '../domain/job';
import { TaskStream } from './container-runtime';
import { RetentionPolicy } from './execution-store';

export interface JobFilter {
  status?: JobStatus[];
  template?: string;
  /** Keyset paging: only jobs submitted before this id (ids sort by submission). */
  before?: string;
  limit: number;
}

/**
 * Job templates, jobs (with their attempts) and the tails of their logs. Jobs are listed newest
 * first; a job's record is written whole at each change. Reading never removes anything: finished
 * jobs go by `prune` alone.
 */
export interface JobStore {
  putTemplate(template: JobTemplate): Promise<void>;
  getTemplate(name: string): Promise<JobTemplate | undefined>;
  listTemplates(): Promise<JobTemplate[]>;
  /** Resolves false when there was no such template. */
  deleteTemplate(name: string): Promise<boolean>;

  saveJob(job: Job): Promise<void>;
  getJob(id: string): Promise<Job | undefined>;
  /** The job dispatched with this idempotency key, if it is still kept. */
  findByIdempotencyKey(key: string): Promise<Job | undefined>;
  listJobs(filter: JobFilter): Promise<Job[]>;
  /** Jobs not yet terminal, oldest first: what a stopped daemon left behind. */
  listUnfinished(): Promise<Job[]>;

  /** Appends output of one attempt's stream, keeping only its last `keepBytes`. */
  appendLog(jobId: string, attempt: number, stream: TaskStream, data: Buffer, keepBytes: number): Promise<void>;
  /** Replaces what is kept of a stream (output read again from the start, after a restart). */
  replaceLog(jobId: string, attempt: number, stream: TaskStream, data: Buffer): Promise<void>;
  /** What is kept of one attempt's stream; empty when nothing is. */
  readLog(jobId: string, attempt: number, stream: TaskStream): Promise<Buffer>;

  /** Removes terminal jobs (and their logs) the policy no longer keeps; never an unfinished one. */
  prune(policy: RetentionPolicy): Promise<number>;
}

/** Codes of an engine, cloud, git or state-file failure (an `InfrastructureError`). */
export type InfrastructureCode =
  | 'infrastructure' // any other failure to talk to a Docker engine
  | 'engine'         // an engine that does not answer
  | 'cloud'          // the cloud API refused or failed
  | 'cloud_timeout'  // new cloud instances did not become usable in time
  | 'timeout'        // an engine call outlived its bound
  | 'state'          // a state file could not be read or written
  | 'tls_files'      // a TLS file of a Docker endpoint is unreadable
  | 'not_a_file'     // a path read from a container is not a regular file
  | 'file_too_large' // a file read from a container is over the limit
  | 'cancelled';     // the call was cancelled (a cancelled execution)

/**
 * Every short code an error or a failed execution carries. The HTTP layer maps each to one status
 * (src/http/error-mapper.ts); a code added here must be given its status there, or it does not compile.
 */
export type ErrorCode =
  | 'invalid' | 'invalid_json' | 'too_large' | 'not_found' | 'conflict' | 'no_solution' | 'unsatisfiable'
  /** The plan has an allocation only with cores or memory that running jobs hold. */
  | 'held_by_jobs'
  | InfrastructureCode
  /** An action of the execution failed (the action's record keeps the code of what failed). */
  | 'action_failed'
  /** The daemon stopped while the execution was queued or running. */
  | 'interrupted'
  /** The daemon is starting: what it persisted is not back in force yet. */
  | 'starting'
  | 'internal';

/**
 * Domain errors say what went wrong in the domain's terms; the HTTP layer alone maps them
 * to status codes (src/http/error-mapper.ts). Each carries a short machine-readable code.
 */
export abstract class DomainError extends Error {
  abstract readonly code: ErrorCode;
  constructor(message: string) {
    super(message);
    this.name = new.target.name;
  }
}

/** The input is malformed or breaks a rule of the contract. `field` is a JSON path such as `apps[0].tiers.db.max_node`. */
export class ValidationError extends DomainError {
  readonly code = 'invalid' as const;
  constructor(readonly field: string, problem: string) {
    super(field ? `${field}: ${problem}` : problem);
  }
}

export class NotFoundError extends DomainError {
  readonly code = 'not_found' as const;
}

export class ConflictError extends DomainError {
  readonly code = 'conflict' as const;
}

/** No allocation satisfies the plan ("No solution found" in the original's wording). */
export class NoSolutionError extends DomainError {
  readonly code = 'no_solution' as const;
  constructor(detail?: string) {
    super(detail ? `No solution found: ${detail}` : 'No solution found');
  }
}

/**
 * The plan could be met, but only with cores or memory that running jobs hold: jobs are never
 * preempted, so it waits for them (`job_yield_s`) or fails with this, naming the jobs.
 */
export class HeldByJobsError extends DomainError {
  readonly code = 'held_by_jobs' as const;
}

/** Well-formed input that cannot be honoured here: a hook the repository lacks, a pool too small, an unreachable node at load. */
export class UnsatisfiableError extends DomainError {
  readonly code = 'unsatisfiable' as const;
}

/**
 * The daemon has just started and has not put its persisted state back in force yet: the same
 * request will be answered once it has (`retryAfterS` is a hint, sent as `Retry-After`).
 */
export class StartingError extends DomainError {
  readonly code = 'starting' as const;
  constructor(message: string, readonly retryAfterS: number) {
    super(message);
  }
}

/** A Docker engine, the cloud API or git failed while the executor was talking to it. */
export class InfrastructureError extends DomainError {
  readonly code: InfrastructureCode;
  constructor(message: string, code: InfrastructureCode = 'infrastructure', override readonly cause?: unknown) {
    super(message);
    this.code = code;
  }
}

/** The message of anything thrown. */
export function errorMessage(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/** The code of anything thrown: a domain error's own, `internal` for the rest. */
export function errorCode(e: unknown): ErrorCode {
  return e instanceof DomainError ? e.code : 'internal';
}

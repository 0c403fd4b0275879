/**
 * Domain errors say what went wrong in the domain's terms; the HTTP layer alone maps them
 * to status codes (src/http/error-mapper.ts). Each carries a short machine-readable code.
 */
export abstract class DomainError extends Error {
  abstract readonly code: string;
  constructor(message: string) {
    super(message);
    this.name = new.target.name;
  }
}

/** The input is malformed or breaks a rule of the contract. `field` is a JSON path such as `apps[0].tiers.db.max_node`. */
export class ValidationError extends DomainError {
  readonly code = 'invalid';
  constructor(readonly field: string, problem: string) {
    super(field ? `${field}: ${problem}` : problem);
  }
}

export class NotFoundError extends DomainError {
  readonly code = 'not_found';
}

export class ConflictError extends DomainError {
  readonly code = 'conflict';
}

/** No allocation satisfies the plan ("No solution found" in the original's wording). */
export class NoSolutionError extends DomainError {
  readonly code = 'no_solution';
  constructor(detail?: string) {
    super(detail ? `No solution found: ${detail}` : 'No solution found');
  }
}

/** Well-formed input that cannot be honoured here: a hook the repository lacks, a pool too small, an unreachable node at load. */
export class UnsatisfiableError extends DomainError {
  readonly code = 'unsatisfiable';
}

/** A Docker engine, the cloud API or git failed while the executor was talking to it. */
export class InfrastructureError extends DomainError {
  readonly code: string;
  constructor(message: string, code = 'infrastructure', override readonly cause?: unknown) {
    super(message);
    this.code = code;
  }
}

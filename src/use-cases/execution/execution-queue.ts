import { TierResources } from '../../domain/allocation';
import { ExecutionKind } from '../../domain/events';
import { Execution } from '../../domain/execution';
import { Placement } from '../../domain/allocation';
import { PartialPlan } from '../../domain/plan';
import { Decision, ProblemConstraints, Snapshot } from './decide';
import { NodeLimitsRequest } from '../nodes/node-limits';

/**
 * What to carry out. A plan is decided when its turn comes, against the state at that moment; a
 * target placement is translated then, without solving; a ready decision is carried out as it is
 * (its caller took it over the state it knows will hold). `plan` is what the record shows;
 * `constraints` add terms to the allocation problem (where tiers may run, what must stay); `nodes`
 * adds node pool limits for this plan (a drain); `prepare` decides over the snapshot when the turn
 * comes (drift repair); `about` is what the record starts with beyond that (a rollback's
 * `rollback_of`, notes for its reader).
 */
export type ExecutionRequest = (
  | { kind?: ExecutionKind; plan: PartialPlan; constraints?: ProblemConstraints; nodes?: NodeLimitsRequest }
  | { kind: ExecutionKind; target: Placement; plan?: TierResources }
  | { kind: ExecutionKind; decision: Decision; plan?: TierResources }
  | { kind: ExecutionKind; prepare: (snapshot: Snapshot) => Promise<Decision>; plan?: TierResources }
) & { about?: Pick<Execution, 'rollback_of' | 'notes'> };

/** How a plan joins the queue. */
export interface SubmitOptions {
  /**
   * Default true: a plan still queued when this one arrives (and nothing else queued after it) is
   * merged into this one, the newer values winning tier by tier, which equals applying both in
   * order; it ends `superseded`. When the merged plan has no solution, the plans are applied one by
   * one in arrival order instead, each with its own record and outcome (applying in order may still
   * succeed where the merge cannot: an older plan that fails alone no longer holds back a newer
   * one). False keeps this plan apart, and no later plan merges it.
   */
  coalesce?: boolean;
  /**
   * A queued plan a stopped daemon (or leader) left, carried on under its own record: the same id,
   * queued again in its place (a daemon's own use; never merged).
   */
  resume?: Execution;
}

/** An execution taken in: its record as first saved (queued), and its outcome. */
export interface Submitted {
  execution: Execution;
  /** Settles with the finished execution; never rejects (failures are part of the record). */
  done: Promise<Execution>;
}

/**
 * The one way an execution starts: plans from the API and every execution the daemon starts
 * itself (systems, drain, drift repair, healing, rollback) are submitted here, recorded, and
 * carried out one at a time in arrival order (plan-executions.ts).
 */
export interface ExecutionQueue {
  submit(request: ExecutionRequest, options?: SubmitOptions): Promise<Submitted>;
}

import { placementOf } from '../domain/allocation';
import { ConflictError, NotFoundError } from '../domain/errors';
import { Execution, isFinished, kindOf } from '../domain/execution';
import { Services } from './knowledge';
import { PlanExecutions } from './plan-executions';

/**
 * Rollback (SPEC §8): back to the placement an execution started from — the same tiers on the same
 * VMs with the same sizes, where those VMs still exist (a VM gone since is replaced by a new one on
 * an elastic cloud) — as a new execution of kind `rollback`, translated without solving.
 */
export async function rollbackExecution(
  services: Pick<Services, 'executions'>, executions: PlanExecutions, id: string,
): Promise<{ execution: Execution; done: Promise<Execution> }> {
  const original = await services.executions.get(id);
  if (!original) throw new NotFoundError(`execution '${id}' not found`);
  if (!isFinished(original.status)) throw new ConflictError(`execution '${id}' is ${original.status}: roll it back once it has finished`);
  if (!original.allocation_before) throw new ConflictError(`execution '${id}' stopped before it read the allocation; there is nothing to return to`);
  return executions.submitExecution({ kind: 'rollback', target: placementOf(original.allocation_before) });
}

/** The topology's `on_failure: rollback`: a failed execution (other than a rollback) is rolled back once. */
export function rollbackOnFailure(services: Pick<Services, 'executions'>, executions: PlanExecutions, failed: Execution): Promise<Execution> | undefined {
  if (failed.status !== 'failed' || kindOf(failed) === 'rollback' || !failed.allocation_before) return undefined;
  return rollbackExecution(services, executions, failed.id).then(({ done }) => done);
}

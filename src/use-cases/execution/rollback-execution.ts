import { NotFoundError } from '../../domain/errors';
import { rollbackTarget } from '../../domain/rollback';
import { ExecutionStore } from '../../ports/execution-store';
import { Knowledge } from '../cluster/knowledge';
import { ExecutionQueue, Submitted } from './execution-queue';

/**
 * `POST /api/executions/:id/rollback`: queues a new execution of kind `rollback` back to the
 * placement execution `id` started from (see domain/rollback.ts). Refuses an unknown id
 * (NotFoundError), an execution still queued or running, or one that never read the cluster
 * (ConflictError); nothing is queued then.
 */
export async function rollBackExecution(
  id: string,
  deps: { knowledge: Knowledge; executions: ExecutionQueue; store: ExecutionStore },
): Promise<Submitted> {
  const rolledBack = await deps.store.get(id);
  if (!rolledBack) throw new NotFoundError(`execution '${id}' not found`);
  const deployment = deps.knowledge.requireDeployment();
  const { target, notes } = rollbackTarget(rolledBack, { topology: deployment.topology, cluster: deployment.cluster, elastic: deployment.cloud.isElastic });
  return deps.executions.submit({ kind: 'rollback', target, about: { rollback_of: id, notes } });
}

import { Router } from 'express';
import { ExecutionStore } from '../ports/execution-store';
import { Knowledge } from '../use-cases/cluster/knowledge';
import { ExecutionQueue } from '../use-cases/execution/execution-queue';
import { rollBackExecution } from '../use-cases/execution/rollback-execution';
import { executionResponse, statusOfExecution } from './execution-responses';
import { readFlag } from './query';

/**
 * `POST /api/executions/:id/rollback`: answered like `PUT /api/execute` (it waits for the rollback;
 * `?wait=false` answers 202 with its Location at once).
 */
export function createRollbackRouter(deps: { knowledge: Knowledge; executions: ExecutionQueue; store: ExecutionStore }): Router {
  const router = Router();
  router.post('/api/executions/:id/rollback', async (req, res) => {
    const wait = readFlag(req.query.wait, 'wait') !== false;
    const { execution, done } = await rollBackExecution(req.params.id, deps);
    if (!wait) {
      res.status(202).location(`/api/executions/${execution.id}`).json({
        execution_id: execution.id, kind: execution.kind, status: execution.status, rollback_of: execution.rollback_of, notes: execution.notes,
      });
      return;
    }
    const finished = await done;
    res.status(statusOfExecution(finished)).json(executionResponse(finished));
  });
  return router;
}

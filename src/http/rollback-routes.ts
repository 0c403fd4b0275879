import { Router } from 'express';
import { Services } from '../use-cases/knowledge';
import { PlanExecutions } from '../use-cases/plan-executions';
import { rollbackExecution } from '../use-cases/rollback';
import { executionResponse, statusOfExecution } from './execution-responses';

/** `POST /api/executions/:id/rollback[?wait=false]`: back to the placement that execution started from (SPEC §8). */
export function createRollbackRouter(services: Pick<Services, 'executions'>, executions: PlanExecutions): Router {
  const router = Router();
  router.post('/api/executions/:id/rollback', async (req, res) => {
    const { execution, done } = await rollbackExecution(services, executions, req.params.id);
    if (req.query.wait === 'false' || req.query.wait === '0') {
      res.status(202).location(`/api/executions/${execution.id}`).json({ execution_id: execution.id, kind: 'rollback', status: execution.status });
      return;
    }
    const finished = await done;
    res.status(statusOfExecution(finished)).json(executionResponse(finished));
  });
  return router;
}

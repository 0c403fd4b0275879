import { EventBus } from '../../src/domain/events';
import { newExecution } from '../../src/domain/execution';
import { MemoryExecutionStore } from '../../src/drivers/fake/memory-execution-store';
import { ExecutionJournal } from '../../src/use-cases/execution/execution-journal';
import { waitFor } from '../support/wait-for';

describe('ExecutionJournal', () => {
  it('writes an action that started just after a save at the end of the 200 ms window, not only at the next change', async () => {
    const store = new MemoryExecutionStore();
    const journal = new ExecutionJournal(newExecution('e1', {}), store, new EventBus());
    await journal.open();
    journal.start();
    journal.decided({ target: {}, before: {}, translation: { steps: [[{ type: 'delete_vm', vm: 'n1' }]], actions: [] }, timingsMs: { translate: 0 } });
    journal.actionStarted({ layer: 0, index: 0 }, { vm: 'n1' });
    expect((await store.get('e1'))!.steps[0][0].status).toBe('pending');
    const stored = await waitFor(() => store.get('e1'), (e) => e!.steps[0][0].status === 'running', 1_000, 20);
    expect(stored!.steps[0][0]).toMatchObject({ status: 'running', vm: 'n1' });
  });

  it('refuses to touch an action the execution does not have', () => {
    const journal = new ExecutionJournal(newExecution('e1', {}), new MemoryExecutionStore(), new EventBus());
    expect(() => journal.actionProgress({ layer: 3, index: 0 }, 'x')).toThrow(/no action at layer 3/);
  });
});

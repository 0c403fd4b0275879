import { EventBus } from '../../domain/events';
import { log } from '../../log';

/** One log line per execution status change, one at debug level per action change; returns the unsubscribe function. */
export function logEvents(events: EventBus): () => void {
  return events.subscribe((event) => {
    if (event.type === 'execution') log.info({ execution_id: event.id, kind: event.kind, status: event.status }, `execution ${event.status}`);
    else if (event.type === 'action') log.debug({ execution_id: event.execution_id, layer: event.layer, index: event.index, status: event.status }, event.description);
  });
}

/**
 * A system (a compose file started through /api/systems or /system/start) as the daemon records it.
 *
 *   starting --> running --> deleting --> (forgotten)
 *      |                        |
 *      |                        '------> running   (the delete's execution failed: the system stays)
 *      '-------------------------------> deleting  (a failed start takes back what it created)
 *   starting | deleting --> running    (found so after a restart: kept, with a warning)
 *
 * The functions below are the only writers of `status`, `execution_ids`, `warnings` and
 * `host_ports`; each refuses a move the diagram lacks.
 */
export interface SystemRecord {
  /** 32 hex digits. */
  sid: string;
  name: string;
  /** `<name>-<sid>`: its app in the topology. */
  app: string;
  namespace: string;
  username?: string;
  created_at: string;
  /** `starting` until its first execution finished and its services were ready; `running` after. */
  status: SystemStatusName;
  /** Executions of kind `system` that started and deleted it. */
  execution_ids: string[];
  /** Warnings given when it was read (rounding, ignored keys). */
  warnings: string[];
  /**
   * Host ports chosen for its containers, by VM and service (`8080/tcp` -> 20001): a container
   * re-created on the same VM gets the same ports when they are free.
   */
  host_ports: Record<string, Record<string, Record<string, number>>>;
}

export type SystemStatusName = 'starting' | 'running' | 'deleting';

/** A move the state diagram above does not have: a fault of the code, never of the input. */
export class SystemTransitionError extends Error {}

function expect(record: SystemRecord, allowed: readonly SystemStatusName[], to: SystemStatusName): void {
  if (!allowed.includes(record.status)) throw new SystemTransitionError(`system ${record.sid} cannot go from ${record.status} to ${to}`);
}

export function newSystem(
  identity: { sid: string; name: string; app: string; namespace: string; username?: string }, warnings: string[], now = new Date(),
): SystemRecord {
  return { ...identity, created_at: now.toISOString(), status: 'starting', execution_ids: [], warnings: [...warnings], host_ports: {} };
}

/** An execution of kind `system` was submitted for it (its start, or its delete). */
export function systemExecutionAdded(record: SystemRecord, executionId: string): void {
  expect(record, ['starting', 'deleting'], record.status);
  record.execution_ids.push(executionId);
}

/** Every service is running and healthy. */
export function systemRunning(record: SystemRecord): void {
  expect(record, ['starting'], 'running');
  record.status = 'running';
}

export function systemDeleting(record: SystemRecord): void {
  expect(record, ['starting', 'running', 'deleting'], 'deleting');
  record.status = 'deleting';
}

/** The delete's execution failed: what runs stays, and so does the system. */
export function systemDeleteFailed(record: SystemRecord): void {
  expect(record, ['deleting'], 'running');
  record.status = 'running';
}

/** A stopped daemon left it starting or deleting: kept as the engines have it, for the user to look at. */
export function systemInterrupted(record: SystemRecord): void {
  expect(record, ['starting', 'deleting'], 'running');
  record.warnings.push(`the daemon stopped while this system was ${record.status === 'starting' ? 'starting' : 'being deleted'}`);
  record.status = 'running';
}

/** The host ports a container of `service` got on `vm`. */
export function systemHostPortsChosen(record: SystemRecord, vm: string, service: string, hostPorts: Record<string, number>): void {
  (record.host_ports[vm] ??= {})[service] = { ...hostPorts };
}

import {
  SystemRecord, systemDeleteFailed, systemDeleting, systemExecutionAdded, systemHostPortsChosen, systemInterrupted, systemRunning,
} from '../../domain/system';
import { errorMessage } from '../../domain/errors';
import { SystemPortLedger } from '../../executor/system-containers';
import { log } from '../../log';
import { SystemStore } from '../../ports/system-store';

/**
 * The one writer of system records: each change goes through a transition of `domain/system.ts` and
 * is written at once. The executor reports the host ports it got here (`SystemPortLedger`) and
 * writes no record itself.
 */
export class SystemBook implements SystemPortLedger {
  constructor(private readonly store: SystemStore) {}

  list(): SystemRecord[] {
    return this.store.list();
  }

  get(sid: string): SystemRecord | undefined {
    return this.store.get(sid);
  }

  /** A new system, written with the topology version that holds its app. */
  async started(record: SystemRecord, topology: unknown): Promise<void> {
    await this.store.saveWithTopology(record, topology);
  }

  async executionAdded(record: SystemRecord, executionId: string): Promise<void> {
    systemExecutionAdded(record, executionId);
    await this.store.save(record);
  }

  async running(record: SystemRecord): Promise<void> {
    systemRunning(record);
    await this.store.save(record);
  }

  async deleting(record: SystemRecord): Promise<void> {
    systemDeleting(record);
    await this.store.save(record);
  }

  async deleteFailed(record: SystemRecord): Promise<void> {
    systemDeleteFailed(record);
    await this.store.save(record);
  }

  async interrupted(record: SystemRecord): Promise<void> {
    systemInterrupted(record);
    await this.store.save(record);
  }

  /** The system is gone, written with the topology version that no longer holds its app. */
  async removed(sid: string, topology: unknown): Promise<void> {
    await this.store.deleteWithTopology(sid, topology);
  }

  /** A system whose app is no longer in the topology (the topology was replaced while the daemon was down). */
  async forget(sid: string): Promise<void> {
    await this.store.delete(sid);
  }

  hostPortsOf(sid: string): SystemRecord['host_ports'] | undefined {
    return this.store.get(sid)?.host_ports;
  }

  hostPortsChosen(sid: string, vm: string, service: string, hostPorts: Record<string, number>): void {
    const record = this.store.get(sid);
    if (!record) return;
    systemHostPortsChosen(record, vm, service, hostPorts);
    // The container runs with these ports whether or not they are written; a failed write costs
    // only the preference on its next re-creation.
    this.store.save(record).catch((e) => log.warn({ sid, err: errorMessage(e) }, 'could not record the host ports of a system'));
  }
}

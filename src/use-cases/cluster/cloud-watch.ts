import { errorMessage } from '../../domain/errors';
import { log } from '../../log';
import { Knowledge } from './knowledge';
import { SerialQueue } from '../execution/serial-queue';

export interface CloudChanges {
  /** VMs of the cluster the cloud no longer lists (an instance terminated or replaced outside the daemon). */
  gone: string[];
  /** VMs the cloud lists that the cluster did not know (an Auto Scaling group's replacement), now in it, empty. */
  joined: string[];
}

/**
 * Compares an elastic cloud's VMs with the cluster, on the plan queue so it never sees an execution
 * half done (a VM being created or released). A VM the cloud lists that the cluster lacks joins it
 * empty: the next plan uses it or, idle, releases it. A VM the cluster has that the cloud no longer
 * lists is reported gone; the caller heals it (heal-nodes.ts), which drops it from the cluster.
 * A static pool's nodes never leave, and a cloud that does not answer changes nothing.
 */
export async function watchCloud(knowledge: Knowledge, queue: SerialQueue): Promise<CloudChanges> {
  return queue.run(async () => {
    const deployment = knowledge.deployment;
    if (!deployment || !deployment.cloud.isElastic) return { gone: [], joined: [] };
    let listed;
    try {
      listed = await deployment.cloud.listVms();
    } catch (e) {
      log.error(`listing the ${deployment.cloud.kind} cloud's VMs: ${errorMessage(e)}`);
      return { gone: [], joined: [] };
    }
    // The deployment may have been replaced while the cloud answered (a topology load is queued too, but be sure).
    if (knowledge.deployment !== deployment) return { gone: [], joined: [] };
    const names = new Set(listed.map((vm) => vm.name));
    const gone = Object.keys(deployment.cluster).filter((name) => !names.has(name)).sort();
    const fresh = listed.filter((vm) => !deployment.cluster[vm.name]);
    knowledge.vmsJoined(fresh);
    return { gone, joined: fresh.map((vm) => vm.name).sort() };
  });
}

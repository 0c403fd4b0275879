import { Topology } from '../../domain/topology';
import { TopologyFollower } from '../../ports/topology-follower';
import { HookSource } from '../../ports/hook-source';
import { SerialQueue } from '../execution/serial-queue';

/** A cron timer, as the git-hooks driver provides it. */
export interface CronTimer {
  start(cronExpr: string, job: () => Promise<void>): void;
  stop(): void;
}

/**
 * Pulls the topology's hooks repository on its `hooks_refresh` schedule, on the same queue as plans
 * and topology loads, so hooks never change under a running execution. A topology without a
 * repository stops the schedule.
 */
export class HookRefresh implements TopologyFollower {
  constructor(private readonly timer: CronTimer, private readonly source: HookSource, private readonly queue: SerialQueue) {}

  follow(topology: Topology): void {
    this.timer.stop();
    const { hooksGitRepo, hooksGitRef, hooksRefresh } = topology.infrastructure;
    if (hooksGitRepo) {
      this.timer.start(hooksRefresh, async () => { await this.queue.run(() => this.source.sync(hooksGitRepo, hooksGitRef)); });
    }
  }

  stop(): void {
    this.timer.stop();
  }
}

/** Runs jobs one at a time in arrival order; a failing job does not stop the ones after it. */
export class SerialQueue {
  private tail: Promise<unknown> = Promise.resolve();
  private pending = 0;
  private enqueued = 0;

  run<T>(job: () => Promise<T>): Promise<T> {
    this.pending++;
    this.enqueued++;
    const result = this.tail.then(job, job);
    this.tail = result.catch(() => undefined).finally(() => { this.pending--; });
    return result;
  }

  /** How many jobs were ever queued: a job is the newest while this is what it was right after its `run`. */
  get queuedCount(): number {
    return this.enqueued;
  }

  get size(): number {
    return this.pending;
  }

  /** Resolves when everything queued so far has finished. */
  async idle(): Promise<void> {
    while (this.pending > 0) await this.tail;
  }
}

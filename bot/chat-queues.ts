/**
 * Runs update handlers without letting one slow chat hold up the others: tasks with the same key (a chat)
 * run one after another in arrival order; tasks of different keys run side by side, at most `concurrency`
 * at once. Tasks without a key (pre-checkout queries) skip both the per-chat line and the bound.
 */
export class ChatQueues {
  /** The tail of each key's line; a key is forgotten once its line is empty. */
  private readonly tails = new Map<string, Promise<void>>();
  /** Keys waiting for a free slot, first come first served. */
  private readonly waiting: Array<() => void> = [];
  private running = 0;
  private readonly inFlight = new Set<Promise<void>>();

  constructor(
    private readonly concurrency: number,
    private readonly onError: (err: unknown) => void,
  ) {
    if (!Number.isInteger(concurrency) || concurrency < 1) throw new Error('concurrency must be ≥ 1');
  }

  /** Queues `task`; returns at once. The returned promise settles when the task has finished (never rejects). */
  push(key: string | undefined, task: () => Promise<void>): Promise<void> {
    const done =
      key === undefined ? this.guard(task) : this.chain(key, () => this.withSlot(() => this.guard(task)));
    this.inFlight.add(done);
    void done.finally(() => this.inFlight.delete(done));
    return done;
  }

  /** Tasks queued or running (for shutdown and tests). */
  get size(): number {
    return this.inFlight.size;
  }

  /** Resolves when every task queued so far (and any queued meanwhile) has finished. */
  async idle(): Promise<void> {
    while (this.inFlight.size > 0) await Promise.all([...this.inFlight]);
  }

  private chain(key: string, run: () => Promise<void>): Promise<void> {
    const previous = this.tails.get(key) ?? Promise.resolve();
    const next = previous.then(run);
    this.tails.set(key, next);
    void next.then(() => {
      if (this.tails.get(key) === next) this.tails.delete(key);
    });
    return next;
  }

  private async withSlot(run: () => Promise<void>): Promise<void> {
    if (this.running >= this.concurrency) await new Promise<void>((resolve) => this.waiting.push(resolve));
    else this.running++;
    try {
      await run();
    } finally {
      // Hand the slot straight to the next waiter, so `running` never drops below what is really running.
      const next = this.waiting.shift();
      if (next) next();
      else this.running--;
    }
  }

  private async guard(task: () => Promise<void>): Promise<void> {
    try {
      await task();
    } catch (err) {
      this.onError(err);
    }
  }
}

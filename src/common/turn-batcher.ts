/**
 * Gathers the calls made while the event loop is busy into batches, so that
 * many small writes or reads cost one statement. A batch goes out at the end
 * of the current turn (setImmediate), or at once when it is full; while
 * `maxInFlight` batches are out, calls wait and go in the next one, so the
 * batch grows with the load instead of the statements. A batch that fails is
 * done again one item at a time, so that one bad item fails only itself and
 * each caller sees its own outcome, as if it had called alone (unless
 * `retryAlone` says the failure may have followed a commit).
 */
export class TurnBatcher<T, R> {
  private pending: Pending<T, R>[] = [];
  private scheduled = false;
  private inFlight = 0;

  constructor(
    private readonly doMany: (items: T[]) => Promise<R[]>,
    private readonly doOne: (item: T) => Promise<R>,
    private readonly limits: {
      maxBatch: number;
      maxInFlight: number;
      /** Whether a failed batch may be done again item by item (default: always); otherwise every caller gets its error. */
      retryAlone?: (error: unknown) => boolean;
    },
  ) {}

  add(item: T): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      this.pending.push({ item, resolve, reject });
      if (this.pending.length >= this.limits.maxBatch) this.flush();
      else if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(() => {
          this.scheduled = false;
          this.flush();
        });
      }
    });
  }

  private flush(): void {
    while (this.pending.length > 0 && this.inFlight < this.limits.maxInFlight) {
      const batch = this.pending.splice(0, this.limits.maxBatch);
      this.inFlight++;
      void this.send(batch).finally(() => {
        this.inFlight--;
        this.flush();
      });
    }
  }

  private async send(batch: Pending<T, R>[]): Promise<void> {
    if (batch.length > 1) {
      let results: R[] | undefined;
      try {
        results = await this.doMany(batch.map((entry) => entry.item));
      } catch (error) {
        // Otherwise retried alone below: each item's own error is the one its caller should see.
        if (this.limits.retryAlone?.(error) === false) {
          for (const entry of batch) entry.reject(error);
          return;
        }
      }
      if (results !== undefined && results.length === batch.length) {
        batch.forEach((entry, i) => entry.resolve(results[i]));
        return;
      }
    }
    await Promise.all(batch.map((entry) => this.doOne(entry.item).then(entry.resolve, entry.reject)));
  }
}

interface Pending<T, R> {
  item: T;
  resolve(result: R): void;
  reject(error: unknown): void;
}

/**
 * At most `capacity` units held at a time (one per holder by default, or a
 * weight each, such as the bytes a read may bring in); the others wait in
 * arrival order, and the first waiter is not passed by lighter later ones.
 */
export class Semaphore {
  private available: number;
  private readonly waiting: { weight: number; admit: () => void }[] = [];

  constructor(private readonly capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError(`capacity must be a positive integer, got ${capacity}`);
    this.available = capacity;
  }

  /**
   * Runs `work` once `weight` units are free and gives them back when it
   * settles, whichever way. A weight above the capacity takes the whole
   * capacity, so it runs alone rather than never.
   */
  async run<T>(work: () => Promise<T>, weight = 1): Promise<T> {
    const held = Math.min(Math.max(1, Math.ceil(weight)), this.capacity);
    await this.acquire(held);
    try {
      return await work();
    } finally {
      this.release(held);
    }
  }

  private acquire(weight: number): Promise<void> {
    if (this.waiting.length === 0 && weight <= this.available) {
      this.available -= weight;
      return Promise.resolve();
    }
    return new Promise((admit) => this.waiting.push({ weight, admit }));
  }

  /** Freed units pass straight to the waiters in order, as far as they go, so none is taken in between. */
  private release(weight: number): void {
    this.available += weight;
    while (this.waiting.length > 0 && this.waiting[0].weight <= this.available) {
      const next = this.waiting.shift()!;
      this.available -= next.weight;
      next.admit();
    }
  }
}

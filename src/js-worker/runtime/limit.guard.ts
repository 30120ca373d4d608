import type { ResolvedLimits } from './run-limits';

export type LimitBreach = 'max_run_time' | 'max_heap_size';

/** Never poll the heap more often than this, and never spend more than ~10% of run time doing it. */
const USAGE_POLL_MIN_INTERVAL_MS = 10;
const USAGE_POLL_COST_FACTOR = 10;

/**
 * Decides, from QuickJS's interrupt callback, whether a run must stop: the wall-clock deadline,
 * and QuickJS's estimate of the live object graph. The estimate complements the WASM growth
 * gate, which only sees memory once the allocator's free pool is used up.
 */
export class LimitGuard {
  private breach: LimitBreach | undefined;
  private deadline: number;
  private heapChecks = true;
  private nextUsagePollAt = 0;

  /** @param usedHeapBytes QuickJS's live-heap estimate; walks every GC object, so it is polled sparingly. */
  constructor(
    private readonly usedHeapBytes: () => number,
    private readonly limits: ResolvedLimits,
  ) {
    this.deadline = performance.now() + limits.maxRunTimeMs;
  }

  get breached(): LimitBreach | undefined {
    return this.breach;
  }

  /** When the run's wall clock ends (performance.now() ms). */
  get deadlineAt(): number {
    return this.deadline;
  }

  get timedOut(): boolean {
    return performance.now() > this.deadline;
  }

  /** Interrupt callback: once a limit is breached every later poll interrupts too. */
  shouldInterrupt(): boolean {
    if (this.breach !== undefined) return true;
    const now = performance.now();
    if (now > this.deadline) this.breach = 'max_run_time';
    else if (this.heapChecks && this.heapExceeded(now)) this.breach = 'max_heap_size';
    return this.breach !== undefined;
  }

  markTimedOut(): void {
    this.breach ??= 'max_run_time';
  }

  /**
   * Lets the host describe a guest error after the run failed: heap checks off (the heap may be
   * full, which is what is being described) and a short fresh deadline so accessors on a hostile
   * error object still cannot hang the worker.
   */
  beginPostMortem(graceMs: number): void {
    this.heapChecks = false;
    this.breach = undefined;
    this.deadline = performance.now() + graceMs;
  }

  private heapExceeded(now: number): boolean {
    if (now < this.nextUsagePollAt) return false;
    const used = this.usedHeapBytes();
    const cost = performance.now() - now;
    this.nextUsagePollAt = now + Math.max(USAGE_POLL_MIN_INTERVAL_MS, cost * USAGE_POLL_COST_FACTOR);
    return used > this.limits.maxHeapBytes;
  }
}

import { Injectable } from '@nestjs/common';
import type { CappedRow } from '../js-result/js-result.repository';

/** Who hears of this process's runs as their ends are written (JsResultWaitService). */
export interface LocalEndObserver {
  /** Whether a call here waits for the run's record: the write then reads it back. */
  waitsFor(key: string): boolean;
  /**
   * The run's end is written, or could not be: `row` is its record as the write read it back,
   * undefined when it was not wanted, did not come (a row deleted meanwhile) or the write failed.
   */
  ended(key: string, row: CappedRow | undefined): void;
}

/**
 * The runs this process started whose end it has not written yet, by
 * js_result id (decimal text). While a run is listed as running its row exists
 * unfinished as far as this process can tell, so `js-result_wait` may register
 * its waiter without reading the row first: the finish is written only after
 * the run leaves that list, and announced after it commits, so a waiter
 * registered while the run is listed hears it. While its end is being written
 * the run is listed as ending: the write itself tells the observer how it
 * went, so an announcement of that finish need not be read again.
 */
@Injectable()
export class LocalRuns {
  private readonly running = new Map<string, string>();
  private readonly endingNow = new Set<string>();
  private observer?: LocalEndObserver;

  started(id: number, workerName: string): void {
    this.running.set(String(id), workerName);
  }

  /** Called before the run's end is written (not after: see the class comment); whether its record is wanted back. */
  ending(id: number): boolean {
    const key = String(id);
    this.running.delete(key);
    this.endingNow.add(key);
    return this.observer?.waitsFor(key) ?? false;
  }

  /** Called once the run's end is written, or given up on. */
  ended(id: number, row: CappedRow | undefined): void {
    const key = String(id);
    this.endingNow.delete(key);
    this.observer?.ended(key, row);
  }

  /** The worker of a run listed as running, or undefined. */
  workerOf(key: string): string | undefined {
    return this.running.get(key);
  }

  /** Whether the run's end is being written by this process now. */
  isEnding(key: string): boolean {
    return this.endingNow.has(key);
  }

  /** One observer at a time; returns its removal. */
  observe(observer: LocalEndObserver): () => void {
    this.observer = observer;
    return () => {
      if (this.observer === observer) this.observer = undefined;
    };
  }

  /** Runs listed, running or ending. */
  get size(): number {
    return this.running.size + this.endingNow.size;
  }
}

import { Injectable } from '@nestjs/common';

/**
 * The runs this process started whose end it has not begun to write yet, by
 * js_result id (decimal text), with their worker's name. While a run is listed
 * here its row exists unfinished as far as this process can tell, so
 * `js-result_wait` may register its waiter without reading the row first:
 * the finish is written only after the run leaves this list, and announced
 * after it commits, so a waiter registered while the run is listed hears it.
 */
@Injectable()
export class LocalRuns {
  private readonly running = new Map<string, string>();

  started(id: number, workerName: string): void {
    this.running.set(String(id), workerName);
  }

  /** Called before the run's end is written (not after: see the class comment). */
  ending(id: number): void {
    this.running.delete(String(id));
  }

  /** The worker of a listed run, or undefined. */
  workerOf(key: string): string | undefined {
    return this.running.get(key);
  }

  get size(): number {
    return this.running.size;
  }
}

import { Inject, Injectable, type OnModuleDestroy } from '@nestjs/common';
import { APP_CONFIG, type AppConfig, DEFAULT_WORKER_API_SETTINGS } from '../config/app.config';
import { QueueFullError, RunnerPool, type RunJob, type RunOutcome, type ScriptValidation } from './runtime';
import { notAcceptable } from './js-worker.rules';

const SHUTTING_DOWN = 'the server is shutting down; try again later';

/** A place in the run queue, taken before the js_result row is written and used (or given back) right after. */
export interface RunTicket {
  settled: boolean;
}

/**
 * Owns the sandbox: the pool of worker threads that run and validate scripts
 * off the main event loop.
 *
 * Admission is decided before the js_result row is written, so a full queue
 * refuses a run without leaving a row behind. Between that decision and the
 * job reaching the pool the caller awaits the INSERT; tickets count those
 * runs, so concurrent callers cannot together overfill the queue and the
 * pool never refuses a job that was admitted.
 */
@Injectable()
export class JsWorkerRunner implements OnModuleDestroy {
  private readonly pool: RunnerPool;
  private readonly size: number;
  private readonly maxQueue: number;
  private admitted = 0;
  private closing?: Promise<void>;

  constructor(@Inject(APP_CONFIG) config: AppConfig) {
    this.size = config.jsWorkerPoolSize;
    this.maxQueue = config.jsWorkerMaxQueue;
    const maxDepth = (config.workerApi ?? DEFAULT_WORKER_API_SETTINGS).inlineCallMaxDepth;
    this.pool = new RunnerPool({ size: this.size, maxQueue: this.maxQueue, maxInlineThreads: Math.max(maxDepth, this.size) });
  }

  onModuleDestroy(): Promise<void> {
    return this.close();
  }

  /**
   * Parses and evaluates the script in a throw-away sandbox on a pool thread (a second at most),
   * or refuses (108) when too many are waiting or the server is shutting down.
   */
  async validate(source: string): Promise<ScriptValidation> {
    if (this.closing) throw notAcceptable(SHUTTING_DOWN);
    let validation: ScriptValidation;
    try {
      validation = await this.pool.validate(source);
    } catch (error) {
      if (error instanceof QueueFullError) throw notAcceptable(`the validation queue is full (${error.maxQueue} waiting); try again later`);
      if (this.closing) throw notAcceptable(SHUTTING_DOWN);
      throw error;
    }
    // A validation cut short by the shutdown says nothing about the script.
    if (!validation.ok && this.closing) throw notAcceptable(SHUTTING_DOWN);
    return validation;
  }

  /** Runs waiting for a thread, counting those admitted but not yet handed to the pool. */
  get waiting(): number {
    return this.pool.queueDepth + this.admitted;
  }

  /** Threads running a script or validating one now. */
  get busy(): number {
    return this.pool.activeCount;
  }

  /** Takes a place for one run, or refuses (108) when the queue is full. */
  admit(): RunTicket {
    const idleThreads = Math.max(0, this.size - this.pool.activeCount);
    const waitingAfter = this.waiting + 1 - idleThreads;
    if (this.closing || waitingAfter > this.maxQueue) {
      throw notAcceptable(
        this.closing ? SHUTTING_DOWN : `the run queue is full (${this.waiting} waiting); try again later`,
      );
    }
    this.admitted++;
    return { settled: false };
  }

  /** Gives the place back when the run will not happen after all (its row could not be written). */
  cancel(ticket: RunTicket): void {
    if (ticket.settled) return;
    ticket.settled = true;
    this.admitted--;
  }

  /** Starts an admitted run. Never rejects: a refusal by the pool becomes a failed outcome. */
  start(ticket: RunTicket, job: RunJob): Promise<RunOutcome> {
    this.cancel(ticket);
    return this.pool.run(job).catch((error: unknown) => ({
      ok: false as const,
      error: this.closing
        ? 'runner pool closed before the job started'
        : `the run could not start: ${error instanceof Error ? error.message : String(error)}`,
      console: [],
    }));
  }

  /** Ends every run (they resolve as failures) and stops the threads. Idempotent. */
  close(): Promise<void> {
    this.closing ??= this.pool.close();
    return this.closing;
  }
}

import os from 'node:os';
import type { Worker } from 'node:worker_threads';
import type { HostAnswer, HostCallKind, RunHost } from './host-calls';
import type { RunJob, RunnerPoolOptions, RunOutcome, ScriptValidation } from './runtime.types';
import { startSandboxWorker } from './sandbox.launcher';
import { toSandboxRequest, type WorkerInbound, type WorkerJob, type WorkerOutbound } from './sandbox.protocol';
import { VALIDATION_LIMITS } from './script-validator';

const DEFAULT_MAX_QUEUE = 1000;
const DEFAULT_MAX_VALIDATION_QUEUE = 64;
const DEFAULT_WATCHDOG_GRACE_MS = 2000;
/** A fresh thread must load QuickJS (and, from TS sources, TypeScript) before its first job can start. */
const WORKER_STARTUP_ALLOWANCE_MS = 10_000;
/** How long a thread lent to inline runs stays for the next one before it ends. */
const LENT_THREAD_LINGER_MS = 10_000;

type JobKind = WorkerJob['kind'];

/** Thrown (as a rejection) by RunnerPool.run or .validate when its queue is full; nothing was started. */
export class QueueFullError extends Error {
  override readonly name = 'QueueFullError';

  constructor(
    readonly maxQueue: number,
    readonly kind: JobKind = 'run',
  ) {
    super(kind === 'run' ? `runner queue is full (${maxQueue} jobs waiting)` : `validation queue is full (${maxQueue} scripts waiting)`);
  }
}

/** A worker's answer to a job, or the reason there is none. */
type Reply = Extract<WorkerOutbound, { kind: 'result' | 'validated' }> | string;

interface PendingJob {
  readonly id: number;
  readonly work: WorkerJob;
  /** The in-sandbox time limit; the watchdog allows more. */
  readonly timeLimitMs: number;
  readonly finish: (reply: Reply) => void;
  readonly host?: RunHost;
  /** An inline call's run (RunJob.inline). */
  readonly inline: boolean;
}

interface Slot {
  readonly worker: Worker;
  ready: boolean;
  job?: PendingJob;
  watchdog?: NodeJS.Timeout;
  linger?: NodeJS.Timeout;
  lastError?: Error;
  /** Inline calls of this slot's job not answered yet: while any is, the thread only waits. */
  waitingInline: number;
}

/**
 * Runs and validates scripts on a bounded set of worker threads so CPU-bound scripts never block
 * the caller's event loop. Jobs wait FIFO for a free thread, except that validations (which any
 * creator can send) hold at most maxConcurrentValidations threads, so a flood of them delays runs
 * only on those. Threads start lazily, stay unref'd while idle (an idle pool never keeps the
 * process alive), and are replaced when they crash, are killed by the watchdog, or ask to be
 * recycled. Every accepted job resolves; none rejects.
 *
 * Inline calls: a run that awaits another worker's run holds its thread while doing nothing, so
 * if every thread did, the callees would wait for a thread forever (or until the callers' clocks
 * ran out). So an inline run is queued ahead of other runs, and may start on an extra thread, one
 * per thread held by a waiting caller and at most maxInlineThreads extra in all. Other runs never
 * hold more than `size` threads at once, and an extra thread ends after LENT_THREAD_LINGER_MS
 * without work (it stays that long so that a loop of inline calls does not start a thread for
 * each). Beyond that (many deep chains at once on a full pool) the callers' wall
 * clocks still end the wait.
 */
export class RunnerPool {
  private readonly size: number;
  private readonly maxQueue: number;
  private readonly maxValidationQueue: number;
  private readonly maxConcurrentValidations: number;
  private readonly watchdogGraceMs: number;
  private readonly maxInlineThreads: number;
  private readonly queue: PendingJob[] = [];
  private readonly queued: Record<JobKind, number> = { run: 0, validate: 0 };
  private readonly slots = new Set<Slot>();
  private nextJobId = 1;
  private closed = false;

  constructor(options: RunnerPoolOptions = {}) {
    this.size = requireInteger('size', options.size ?? os.availableParallelism(), 1);
    this.maxQueue = requireInteger('maxQueue', options.maxQueue ?? DEFAULT_MAX_QUEUE, 0);
    this.maxValidationQueue = requireInteger('maxValidationQueue', options.maxValidationQueue ?? DEFAULT_MAX_VALIDATION_QUEUE, 0);
    this.maxConcurrentValidations = requireInteger(
      'maxConcurrentValidations',
      options.maxConcurrentValidations ?? Math.max(1, Math.floor(this.size / 2)),
      1,
    );
    this.watchdogGraceMs = requireFinite('watchdogGraceMs', options.watchdogGraceMs ?? DEFAULT_WATCHDOG_GRACE_MS);
    this.maxInlineThreads = requireInteger('maxInlineThreads', options.maxInlineThreads ?? Math.max(8, this.size), 0);
  }

  /** Runs waiting for a free worker. */
  get queueDepth(): number {
    return this.queued.run;
  }

  /** Validations waiting for a free worker. */
  get validationQueueDepth(): number {
    return this.queued.validate;
  }

  /** Jobs (runs and validations) currently handed to a worker. */
  get activeCount(): number {
    let active = 0;
    for (const slot of this.slots) if (slot.job !== undefined) active++;
    return active;
  }

  /**
   * Resolves with the run's outcome, script failures included. Rejects without side effects with
   * QueueFullError when maxQueue runs are already waiting, or with an Error once the pool is closed.
   */
  run(job: RunJob): Promise<RunOutcome> {
    const request = toSandboxRequest(job);
    if (typeof request === 'string') return this.enqueue('run', request, 0, toOutcome);
    return this.enqueue('run', { kind: 'run', request }, request.limits.maxRunTimeMs, toOutcome, job.host, job.inline === true);
  }

  /**
   * Checks a script as it is stored (see validateScript) on a worker thread, within
   * VALIDATION_LIMITS. Resolves with the verdict; rejects without side effects with
   * QueueFullError when maxValidationQueue scripts are already waiting, or with an Error once
   * the pool is closed.
   */
  validate(source: string): Promise<ScriptValidation> {
    const work: WorkerJob | string = typeof source === 'string' ? { kind: 'validate', source } : 'script must be a string';
    return this.enqueue('validate', work, VALIDATION_LIMITS.maxRunTimeMs, toValidation);
  }

  /** Fails waiting and running jobs ("runner pool closed") and terminates every worker. */
  async close(): Promise<void> {
    this.closed = true;
    for (const job of this.queue.splice(0)) job.finish('runner pool closed before the job started');
    this.queued.run = this.queued.validate = 0;
    const terminations = [...this.slots].map((slot) => this.retire(slot, 'runner pool closed while the job was running'));
    await Promise.allSettled(terminations);
  }

  /** @param work the job, or why it cannot be sent (it then resolves as that failure, once admitted) */
  private enqueue<T>(
    kind: JobKind,
    work: WorkerJob | string,
    timeLimitMs: number,
    interpret: (reply: Reply) => T,
    host?: RunHost,
    inline = false,
  ): Promise<T> {
    if (this.closed) return Promise.reject(new Error('RunnerPool is closed'));
    const limit = kind === 'run' ? this.maxQueue : this.maxValidationQueue;
    if (this.queued[kind] >= limit && !this.canStart(kind)) return Promise.reject(new QueueFullError(limit, kind));
    if (typeof work === 'string') return Promise.resolve(interpret(work));
    return new Promise((resolve) => {
      const job: PendingJob = { id: this.nextJobId++, work, timeLimitMs, finish: (reply) => resolve(interpret(reply)), host, inline };
      if (inline) {
        const firstOther = this.queue.findIndex((queued) => !queued.inline);
        this.queue.splice(firstOther < 0 ? this.queue.length : firstOther, 0, job);
      } else {
        this.queue.push(job);
      }
      this.queued[kind]++;
      this.dispatch();
    });
  }

  private dispatch(): void {
    for (;;) {
      const index = this.nextStartable();
      if (index < 0) return;
      const inline = this.queue[index].inline;
      const slot = this.idleSlot(inline) ?? this.spawnSlot(inline ? this.inlineAllowance() : 0);
      if (slot === undefined) return;
      const [job] = this.queue.splice(index, 1);
      this.queued[job.work.kind]--;
      if (slot instanceof Error) job.finish(`could not start a sandbox worker: ${slot.message}`);
      else this.assign(slot, job);
    }
  }

  /** Index of the first queued job that may take a thread now, or -1. */
  private nextStartable(): number {
    if (this.activeValidations() < this.maxConcurrentValidations) return this.queue.length > 0 ? 0 : -1;
    return this.queue.findIndex((job) => job.work.kind === 'run');
  }

  /** Whether a new job of this kind would start at once (dispatch() hands out free capacity as soon as it appears). */
  private canStart(kind: JobKind): boolean {
    if (kind === 'validate' && this.activeValidations() >= this.maxConcurrentValidations) return false;
    return this.slots.size < this.size || this.idleSlot(false) !== undefined;
  }

  private activeValidations(): number {
    let active = 0;
    for (const slot of this.slots) if (slot.job?.work.kind === 'validate') active++;
    return active;
  }

  /** A free thread, but for other runs only while fewer than `size` threads are busy. */
  private idleSlot(inline: boolean): Slot | undefined {
    if (!inline && this.slots.size > this.size && this.activeCount >= this.size) return undefined;
    for (const slot of this.slots) if (slot.job === undefined) return slot;
    return undefined;
  }

  /** Extra threads an inline run may start on now: one per thread whose run waits on an inline call. */
  private inlineAllowance(): number {
    let waiting = 0;
    for (const slot of this.slots) if (slot.waitingInline > 0) waiting++;
    return Math.min(waiting, this.maxInlineThreads);
  }

  /** @returns undefined when the pool is at size (plus `extra`), an Error when the thread could not be created. */
  private spawnSlot(extra = 0): Slot | Error | undefined {
    if (this.slots.size >= this.size + extra) return undefined;
    let worker: Worker;
    try {
      worker = startSandboxWorker();
    } catch (error) {
      return error instanceof Error ? error : new Error(String(error));
    }
    const slot: Slot = { worker, ready: false, waitingInline: 0 };
    slot.worker.on('message', (message: WorkerOutbound) => this.onMessage(slot, message));
    // A reply too deep for this thread's stack to rebuild arrives as this instead of a message.
    slot.worker.on('messageerror', (error: Error) => this.onUnreadableMessage(slot, error));
    // Without an 'error' listener a crashing worker would become an uncaught exception here.
    slot.worker.on('error', (error: Error) => (slot.lastError = error));
    slot.worker.on('exit', (code: number) => this.onExit(slot, code));
    this.slots.add(slot);
    return slot;
  }

  private assign(slot: Slot, job: PendingJob): void {
    clearTimeout(slot.linger);
    slot.linger = undefined;
    slot.job = job;
    slot.worker.ref();
    slot.worker.postMessage({ ...job.work, id: job.id } satisfies WorkerInbound);
    const budgetMs = job.timeLimitMs + this.watchdogGraceMs + (slot.ready ? 0 : WORKER_STARTUP_ALLOWANCE_MS);
    slot.watchdog = setTimeout(() => this.onWatchdog(slot, budgetMs), budgetMs);
  }

  private onMessage(slot: Slot, message: WorkerOutbound): void {
    if (message.kind === 'ready') {
      slot.ready = true;
      return;
    }
    const job = slot.job;
    if (job === undefined || job.id !== message.id) return;
    if (message.kind === 'log') {
      job.host?.log(message.line);
      return;
    }
    if (message.kind === 'call') {
      this.forwardCall(slot, job, message.callId, message.call, message.payload);
      return;
    }
    this.release(slot);
    job.finish(message);
    if (message.recycle) void this.retire(slot, 'sandbox worker recycled');
    // Threads beyond `size` were lent to inline runs (see the class comment).
    else if (this.slots.size > this.size) slot.linger = setTimeout(() => this.endLent(slot), LENT_THREAD_LINGER_MS).unref();
    this.dispatch();
  }

  private endLent(slot: Slot): void {
    slot.linger = undefined;
    if (slot.job === undefined && this.slots.has(slot) && this.slots.size > this.size) void this.retire(slot, 'lent sandbox worker ended');
  }

  /** Asks the job's host and posts the answer back while the job still runs on that thread. */
  private forwardCall(slot: Slot, job: PendingJob, callId: number, call: HostCallKind, payload: string): void {
    const host = job.host;
    const inline = call === 'inline';
    if (inline) slot.waitingInline++;
    const answered = host === undefined ? Promise.resolve<HostAnswer>({ ok: false, error: `${call} is not available in this run` }) : host.call(call, payload);
    void answered
      .catch((error: unknown): HostAnswer => ({ ok: false, error: error instanceof Error ? error.message : String(error) }))
      .then((answer) => {
        if (slot.job !== job) return;
        if (inline) slot.waitingInline--;
        slot.worker.postMessage({ kind: 'answer', id: job.id, callId, answer } satisfies WorkerInbound);
      });
    // A waiting caller frees capacity for inline runs that are queued.
    if (inline) this.dispatch();
  }

  /** The worker answered, so it is free, but what it sent is lost: its job fails and the thread is replaced. */
  private onUnreadableMessage(slot: Slot, error: Error): void {
    if (!this.slots.has(slot)) return;
    void this.retire(slot, `the sandbox worker's answer could not be read (${error.message})`);
    this.dispatch();
  }

  /** Second line of defence: the in-sandbox interrupt should have ended the job long before. */
  private onWatchdog(slot: Slot, budgetMs: number): void {
    void this.retire(
      slot,
      `max_run_time exceeded: the sandbox worker did not answer within ${budgetMs} ms and was terminated`,
    );
    this.dispatch();
  }

  private onExit(slot: Slot, code: number): void {
    if (!this.slots.has(slot)) return;
    const cause = slot.lastError ? `: ${slot.lastError.message}` : '';
    void this.retire(slot, `sandbox worker exited unexpectedly (code ${code}${cause})`);
    this.dispatch();
  }

  private release(slot: Slot): void {
    clearTimeout(slot.watchdog);
    slot.watchdog = undefined;
    slot.job = undefined;
    slot.waitingInline = 0;
    slot.worker.unref();
  }

  /** Removes the slot for good, failing its job (if any) with `reason`; a replacement starts on demand. */
  private retire(slot: Slot, reason: string): Promise<number> {
    clearTimeout(slot.linger);
    const job = slot.job;
    this.release(slot);
    this.slots.delete(slot);
    job?.finish(reason);
    return slot.worker.terminate().catch(() => -1);
  }
}

function toOutcome(reply: Reply): RunOutcome {
  if (typeof reply === 'string') return failure(reply);
  return reply.kind === 'result' ? reply.outcome : failure('sandbox worker answered a run with a validation');
}

function toValidation(reply: Reply): ScriptValidation {
  if (typeof reply === 'string') return { ok: false, message: reply };
  return reply.kind === 'validated' ? reply.validation : { ok: false, message: 'sandbox worker answered a validation with a run' };
}

function failure(error: string): RunOutcome {
  return { ok: false, error, console: [] };
}

function requireFinite(name: string, value: number): number {
  if (!Number.isFinite(value)) throw new RangeError(`RunnerPool ${name} must be a finite number`);
  return value;
}

function requireInteger(name: string, value: number, min: number): number {
  if (!Number.isInteger(value) || value < min) throw new RangeError(`RunnerPool ${name} must be an integer >= ${min}`);
  return value;
}

import os from 'node:os';
import type { Worker } from 'node:worker_threads';
import type { RunJob, RunnerPoolOptions, RunOutcome } from './runtime.types';
import { startSandboxWorker } from './sandbox.launcher';
import { toSandboxRequest, type SandboxRequest, type WorkerInbound, type WorkerOutbound } from './sandbox.protocol';

const DEFAULT_MAX_QUEUE = 1000;
const DEFAULT_WATCHDOG_GRACE_MS = 2000;
/** A fresh thread must load QuickJS (and, from TS sources, TypeScript) before its first job can start. */
const WORKER_STARTUP_ALLOWANCE_MS = 10_000;

/** Thrown (as a rejection) by RunnerPool.run when maxQueue jobs are already waiting; nothing was started. */
export class QueueFullError extends Error {
  override readonly name = 'QueueFullError';

  constructor(readonly maxQueue: number) {
    super(`runner queue is full (${maxQueue} jobs waiting)`);
  }
}

interface PendingJob {
  readonly id: number;
  readonly request: SandboxRequest;
  readonly resolve: (outcome: RunOutcome) => void;
}

interface Slot {
  readonly worker: Worker;
  ready: boolean;
  job?: PendingJob;
  watchdog?: NodeJS.Timeout;
  lastError?: Error;
}

/**
 * Runs scripts on a bounded set of worker threads so CPU-bound scripts never block the caller's
 * event loop. Jobs wait FIFO for a free thread. Threads start lazily, stay unref'd while idle
 * (an idle pool never keeps the process alive), and are replaced when they crash, are killed
 * by the watchdog, or ask to be recycled. Every accepted job resolves; none rejects.
 */
export class RunnerPool {
  private readonly size: number;
  private readonly maxQueue: number;
  private readonly watchdogGraceMs: number;
  private readonly queue: PendingJob[] = [];
  private readonly slots = new Set<Slot>();
  private nextJobId = 1;
  private closed = false;

  constructor(options: RunnerPoolOptions = {}) {
    this.size = requireInteger('size', options.size ?? os.availableParallelism(), 1);
    this.maxQueue = requireInteger('maxQueue', options.maxQueue ?? DEFAULT_MAX_QUEUE, 0);
    this.watchdogGraceMs = requireFinite('watchdogGraceMs', options.watchdogGraceMs ?? DEFAULT_WATCHDOG_GRACE_MS);
  }

  /** Jobs waiting for a free worker. */
  get queueDepth(): number {
    return this.queue.length;
  }

  /** Jobs currently handed to a worker. */
  get activeCount(): number {
    let active = 0;
    for (const slot of this.slots) if (slot.job !== undefined) active++;
    return active;
  }

  /**
   * Resolves with the run's outcome, script failures included. Rejects without side effects with
   * QueueFullError when maxQueue jobs are already waiting, or with an Error once the pool is closed.
   */
  run(job: RunJob): Promise<RunOutcome> {
    if (this.closed) return Promise.reject(new Error('RunnerPool is closed'));
    if (this.queue.length >= this.maxQueue && !this.hasIdleCapacity()) {
      return Promise.reject(new QueueFullError(this.maxQueue));
    }
    const request = toSandboxRequest(job);
    if (typeof request === 'string') return Promise.resolve(failure(request));
    return new Promise((resolve) => {
      this.queue.push({ id: this.nextJobId++, request, resolve });
      this.dispatch();
    });
  }

  /** Fails waiting and running jobs ("runner pool closed") and terminates every worker. */
  async close(): Promise<void> {
    this.closed = true;
    for (const job of this.queue.splice(0)) job.resolve(failure('runner pool closed before the job started'));
    const terminations = [...this.slots].map((slot) => this.retire(slot, 'runner pool closed while the job was running'));
    await Promise.allSettled(terminations);
  }

  private dispatch(): void {
    while (this.queue.length > 0) {
      const slot = this.idleSlot() ?? this.spawnSlot();
      if (slot === undefined) return;
      const job = this.queue.shift() as PendingJob;
      if (slot instanceof Error) job.resolve(failure(`could not start a sandbox worker: ${slot.message}`));
      else this.assign(slot, job);
    }
  }

  /** Only true while nothing is queued: dispatch() hands out free capacity as soon as it appears. */
  private hasIdleCapacity(): boolean {
    return this.slots.size < this.size || this.idleSlot() !== undefined;
  }

  private idleSlot(): Slot | undefined {
    for (const slot of this.slots) if (slot.job === undefined) return slot;
    return undefined;
  }

  /** @returns undefined when the pool is at size, an Error when the thread could not be created. */
  private spawnSlot(): Slot | Error | undefined {
    if (this.slots.size >= this.size) return undefined;
    let worker: Worker;
    try {
      worker = startSandboxWorker();
    } catch (error) {
      return error instanceof Error ? error : new Error(String(error));
    }
    const slot: Slot = { worker, ready: false };
    slot.worker.on('message', (message: WorkerOutbound) => this.onMessage(slot, message));
    // Without an 'error' listener a crashing worker would become an uncaught exception here.
    slot.worker.on('error', (error: Error) => (slot.lastError = error));
    slot.worker.on('exit', (code: number) => this.onExit(slot, code));
    this.slots.add(slot);
    return slot;
  }

  private assign(slot: Slot, job: PendingJob): void {
    slot.job = job;
    slot.worker.ref();
    slot.worker.postMessage({ kind: 'run', id: job.id, request: job.request } satisfies WorkerInbound);
    const budgetMs =
      job.request.limits.maxRunTimeMs + this.watchdogGraceMs + (slot.ready ? 0 : WORKER_STARTUP_ALLOWANCE_MS);
    slot.watchdog = setTimeout(() => this.onWatchdog(slot, budgetMs), budgetMs);
  }

  private onMessage(slot: Slot, message: WorkerOutbound): void {
    if (message.kind === 'ready') {
      slot.ready = true;
      return;
    }
    const job = slot.job;
    if (job === undefined || job.id !== message.id) return;
    this.release(slot);
    job.resolve(message.outcome);
    if (message.recycle) void this.retire(slot, 'sandbox worker recycled');
    this.dispatch();
  }

  /** Second line of defence: the in-sandbox interrupt should have ended the run long before. */
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
    slot.worker.unref();
  }

  /** Removes the slot for good, failing its job (if any) with `reason`; a replacement starts on demand. */
  private retire(slot: Slot, reason: string): Promise<number> {
    const job = slot.job;
    this.release(slot);
    this.slots.delete(slot);
    job?.resolve(failure(reason));
    return slot.worker.terminate().catch(() => -1);
  }
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

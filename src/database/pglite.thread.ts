import type { Worker } from 'node:worker_threads';
import { startThread } from '../common/thread-entry';
import type { EngineFailure } from './database.errors';
import {
  deserializeError,
  type EngineSettings,
  type FromEngine,
  type PgLikeResult,
  PGLITE_WORKER_FLAG,
  type ToEngine,
} from './pglite.protocol';

const ENTRY_BASENAME = 'pglite.worker';

/**
 * EngineFailure, loaded when first needed: its module loads TypeORM, which
 * would otherwise be loaded before the database thread is started ahead of
 * the app (pglite.head-start.ts) and delay it.
 */
function engineFailure(cause: Error): EngineFailure {
  const errors = require('./database.errors') as typeof import('./database.errors');
  return new errors.EngineFailure(cause);
}

function startWorker(settings: EngineSettings): Worker {
  return startThread(__filename, ENTRY_BASENAME, { workerData: { [PGLITE_WORKER_FLAG]: true, settings } });
}

interface Pending {
  resolve(result: PgLikeResult | undefined): void;
  reject(err: unknown): void;
}

/** Who hears what the thread says by itself. */
export interface ThreadEvents {
  notification(channel: string, payload: string): void;
  /** The thread ended without being closed: a crash, or the engine broke. */
  ended(): void;
}

/**
 * The main thread's handle on one embedded database thread (pglite.worker.ts):
 * requests out, answers matched back by id. If the thread ends, every request
 * still waiting fails as an EngineFailure (the database is unavailable, 103),
 * and the pool starts another thread. The thread keeps the process alive only
 * while a request waits, as a server's socket would.
 */
export class PgliteThread {
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private ended = false;
  private closing = false;

  private constructor(
    private readonly worker: Worker,
    private readonly events: ThreadEvents,
  ) {
    worker.on('message', (message: FromEngine) => this.received(message));
    worker.on('error', () => undefined);
    worker.once('exit', () => this.exited());
    worker.unref();
  }

  /** Starts a thread and waits until its database is open; a failure to open rejects with the reason. */
  static start(settings: EngineSettings, events: ThreadEvents): Promise<PgliteThread> {
    return new Promise((resolve, reject) => {
      const worker = startWorker(settings);
      let error: unknown;
      const opening = (message: FromEngine) => {
        if (message.kind === 'open-failed') error = deserializeError(message.error);
        if (message.kind !== 'ready' && message.kind !== 'open-failed') return;
        worker.off('message', opening).off('error', failed).off('exit', gone);
        if (message.kind === 'ready') resolve(new PgliteThread(worker, events));
        else void worker.terminate().finally(() => reject(error));
      };
      const failed = (err: unknown) => (error = err);
      const gone = () => reject(error ?? new Error('the embedded database thread ended while opening'));
      worker.on('message', opening).on('error', failed).once('exit', gone);
    });
  }

  /** Whether the thread still runs and answers. */
  get alive(): boolean {
    return !this.ended && !this.closing;
  }

  query(lease: number, statement: { name?: string; text: string; params?: unknown[]; jsonAsText: boolean }): Promise<PgLikeResult> {
    return this.request((id) => ({ op: 'query', id, lease, ...statement })) as Promise<PgLikeResult>;
  }

  /** The lease is given back; a transaction it left open is rolled back by the thread. */
  release(lease: number): void {
    if (!this.ended) this.worker.postMessage({ op: 'release', lease } satisfies ToEngine);
  }

  async listen(channel: string): Promise<void> {
    await this.request((id) => ({ op: 'listen', id, channel }));
  }

  async unlisten(channel: string): Promise<void> {
    await this.request((id) => ({ op: 'unlisten', id, channel }));
  }

  /** Closes the database (its files consistent), then ends the thread. */
  async close(): Promise<void> {
    if (this.ended) return;
    this.closing = true;
    try {
      await this.request((id) => ({ op: 'close', id }));
    } catch {
      // Ended already: nothing left to close.
    }
    await this.worker.terminate();
  }

  /** Ends the thread at once, as a crash would: for tests. */
  async crash(): Promise<void> {
    await this.worker.terminate();
  }

  private request(message: (id: number) => ToEngine): Promise<PgLikeResult | undefined> {
    if (this.ended) return Promise.reject(engineFailure(new Error('the embedded database thread ended')));
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      if (this.pending.size === 0) this.worker.ref();
      this.pending.set(id, { resolve, reject });
      this.worker.postMessage(message(id));
    });
  }

  private settle(id: number): Pending | undefined {
    const pending = this.pending.get(id);
    this.pending.delete(id);
    if (this.pending.size === 0) this.worker.unref();
    return pending;
  }

  private received(message: FromEngine): void {
    switch (message.kind) {
      case 'done':
        this.settle(message.id)?.resolve(message.result);
        break;
      case 'failed': {
        const err = deserializeError(message.error);
        this.settle(message.id)?.reject(message.engineBroken ? engineFailure(err) : err);
        break;
      }
      case 'notification':
        this.events.notification(message.channel, message.payload);
        break;
    }
  }

  private exited(): void {
    this.ended = true;
    const failure = engineFailure(new Error('the embedded database thread ended'));
    for (const id of [...this.pending.keys()]) this.settle(id)?.reject(failure);
    if (!this.closing) this.events.ended();
  }
}

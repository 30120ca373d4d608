import type { Worker } from 'node:worker_threads';
import { startThread } from '../common/thread-entry';
import type { HashJob, HashReply } from './password-hash.worker';

/**
 * The niceness the hashing threads give themselves: they then get a core only
 * as far as the event loop, the database and everything else of the machine
 * leave one, yet still a share of a busy one (at the lowest priority a check
 * could wait for most of a client's patience).
 */
export const PASSWORD_HASH_NICENESS = 10;

/** Threads at most: the password checks' own bound (LOGIN_MAX_CONCURRENT_HASHES) is far lower. */
const MAX_THREADS = 64;

interface Waiting {
  resolve(hash: Buffer): void;
  reject(error: Error): void;
}

/** One hashing thread and the hashes it was given, in order. */
interface HashThread {
  worker: Worker;
  waiting: Map<number, Waiting>;
}

/**
 * scrypt on threads of their own, one hash at a time each, at a lower
 * priority than the rest of the process. On libuv's pool each check ran at
 * the process's priority: a flood of logins for unknown accounts (each a full
 * check, so that they cannot be told from known ones by their timing) took
 * whole cores from short reads and the database beside them. How many hashes
 * run at once is PasswordCheckGate's to bound: a thread is started when a
 * hash finds every other one busy, so there are as many as ever ran at once.
 * Threads do not keep the process alive while idle; one that crashes fails
 * the hashes it had, and is replaced by the next hash that needs one.
 */
export class PasswordHashThread {
  private readonly threads: HashThread[] = [];
  private lastId = 0;

  constructor(private readonly niceness = PASSWORD_HASH_NICENESS) {}

  scrypt(password: string, salt: Buffer, keylen: number, options: HashJob['options']): Promise<Buffer> {
    const id = (this.lastId = (this.lastId % Number.MAX_SAFE_INTEGER) + 1);
    return new Promise<Buffer>((resolve, reject) => {
      const thread = this.leastBusy();
      // Held while a hash is awaited (a script that only awaits one must not end first), let go when idle.
      if (thread.waiting.size === 0) thread.worker.ref();
      thread.waiting.set(id, { resolve, reject });
      thread.worker.postMessage({ id, password, salt, keylen, options } satisfies HashJob);
    });
  }

  /** A thread's own niceness, as it reads it (for an operator, or a test, to see that only the threads run lower). */
  threadNiceness(): Promise<number> {
    const { worker } = this.leastBusy();
    return new Promise<number>((resolve) => {
      const heard = (reply: HashReply) => {
        if (!('niceness' in reply)) return;
        worker.off('message', heard);
        resolve(reply.niceness);
      };
      worker.on('message', heard);
      worker.postMessage({ id: 0 });
    });
  }

  /** How many threads were started and are running. */
  get size(): number {
    return this.threads.length;
  }

  /** Ends the threads (tests); hashes still running fail. */
  async stop(): Promise<void> {
    await Promise.all(this.threads.map((thread) => thread.worker.terminate()));
  }

  private leastBusy(): HashThread {
    const idle = this.threads.find((thread) => thread.waiting.size === 0);
    if (idle !== undefined) return idle;
    if (this.threads.length < MAX_THREADS) return this.started();
    return this.threads.reduce((least, thread) => (thread.waiting.size < least.waiting.size ? thread : least));
  }

  private started(): HashThread {
    const worker = startThread(__filename, 'password-hash.worker', { workerData: { niceness: this.niceness } });
    const thread: HashThread = { worker, waiting: new Map() };
    worker.on('message', (reply: HashReply) => answered(thread, reply));
    const lost = (error: Error) => {
      const at = this.threads.indexOf(thread);
      if (at < 0) return;
      this.threads.splice(at, 1);
      for (const waiting of thread.waiting.values()) waiting.reject(error);
      thread.waiting.clear();
    };
    worker.on('error', lost);
    worker.on('exit', (code) => lost(new Error(`a password hashing thread ended (exit code ${code})`)));
    // After the listeners, which would take the reference again.
    worker.unref();
    this.threads.push(thread);
    return thread;
  }
}

function answered(thread: HashThread, reply: HashReply): void {
  if ('niceness' in reply) return;
  const waiting = thread.waiting.get(reply.id);
  if (waiting === undefined) return;
  thread.waiting.delete(reply.id);
  if (thread.waiting.size === 0) thread.worker.unref();
  if ('hash' in reply) waiting.resolve(Buffer.from(reply.hash.buffer, reply.hash.byteOffset, reply.hash.byteLength));
  else waiting.reject(new Error(reply.error));
}

/** The process's hashing threads. */
export const passwordHashThread = new PasswordHashThread();

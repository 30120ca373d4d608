import { LoginRefusedError } from './login-refused.error';
import { Semaphore } from '../common/semaphore';

export const hashQueueFull = () => new LoginRefusedError('hash_queue', 'too many password checks in progress, retry in 1 s', { retry_after_ms: 1000 });

/**
 * Bounds the password hashes (scrypt) running at once. Each takes a libuv
 * threadpool thread and a core for tens of milliseconds, and that pool also
 * serves every other asynchronous job of the process, so a flood of logins
 * must not be able to take all of it. A few wait their turn; past that, a
 * login is refused at once rather than queued for longer than a client waits.
 */
export class PasswordCheckGate {
  private readonly slots: Semaphore;
  private pending = 0;
  private running = 0;
  /** Most checks seen running at once, and checks run in all: what an operator (or a test) can verify the bound by. */
  readonly stats = { peakRunning: 0, completed: 0 };

  constructor(
    private readonly concurrency: number,
    private readonly maxQueued: number,
  ) {
    this.slots = new Semaphore(concurrency);
  }

  /**
   * Takes a place for one login's checks, or refuses at once when every
   * place is taken; returns how to give it back. A login takes its place
   * before it costs anything else (the throttle's statement, the account's
   * read), so a flood is refused before it reaches the database either.
   * `mayQueueUnbounded` is for internal callers, who are few and must not be refused.
   */
  enter(mayQueueUnbounded = false): () => void {
    if (!mayQueueUnbounded && this.pending >= this.concurrency + this.maxQueued) throw hashQueueFull();
    this.pending++;
    let left = false;
    return () => {
      if (left) return;
      left = true;
      this.pending--;
    };
  }

  /** Runs a check of a login that entered, when a slot is free. */
  runEntered<T>(check: () => Promise<T>): Promise<T> {
    return this.slots.run(() => this.counted(check));
  }

  /** Runs `check` within the bound: enter, run, leave. */
  async run<T>(check: () => Promise<T>, mayQueueUnbounded = false): Promise<T> {
    const leave = this.enter(mayQueueUnbounded);
    try {
      return await this.runEntered(check);
    } finally {
      leave();
    }
  }

  private async counted<T>(check: () => Promise<T>): Promise<T> {
    this.running++;
    this.stats.peakRunning = Math.max(this.stats.peakRunning, this.running);
    try {
      return await check();
    } finally {
      this.running--;
      this.stats.completed++;
    }
  }
}

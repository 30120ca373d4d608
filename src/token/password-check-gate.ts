import { DomainError, DomainErrorCode } from '../common/domain.error';
import { Semaphore } from '../common/semaphore';

export const hashQueueFull = () =>
  new DomainError(DomainErrorCode.TooManyLogins, 'too many password checks in progress, retry in 1 s');

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

  /** Runs `check` within the bound; `mayQueueUnbounded` is for internal callers, who are few and must not be refused. */
  async run<T>(check: () => Promise<T>, mayQueueUnbounded = false): Promise<T> {
    if (!mayQueueUnbounded && this.pending >= this.concurrency + this.maxQueued) throw hashQueueFull();
    this.pending++;
    try {
      return await this.slots.run(() => this.counted(check));
    } finally {
      this.pending--;
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

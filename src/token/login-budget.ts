import { Inject, Injectable } from '@nestjs/common';
import { DomainError, DomainErrorCode } from '../common/domain.error';
import { APP_CONFIG, type AppConfig, type LoginLimits } from '../config/app.config';
import { type LoginAttempt, LoginThrottle } from './login-throttle';
import { PasswordCheckGate } from './password-check-gate';

/**
 * A login by a client: its address, and the usernames the other calls of the
 * same request (HTTP body or WebSocket frame) logged in as. The transport's
 * RpcRequest is one.
 */
export interface ClientLogin {
  readonly peer: string;
  readonly accounts: Set<string>;
}

/** A login the service makes for itself (re-checking a subscriber's credential): neither capped nor throttled. */
export const SYSTEM_LOGIN = 'system';

export type LoginOrigin = ClientLogin | typeof SYSTEM_LOGIN;

/** Runs one password hash within the process's bound on them. */
export type HashRunner = <T>(hash: () => Promise<T>) => Promise<T>;

type Outcome = 'verified' | 'rejected' | 'unchecked';

/**
 * What password logins may cost: every rule that can refuse one is applied
 * before its username is looked up or any hash runs, so a refusal costs
 * nothing; the hashes that do run are bounded by PasswordCheckGate.
 * `key:secret` credentials never come here (their check is one SHA-256).
 */
@Injectable()
export class LoginBudget {
  private readonly limits: LoginLimits;
  private readonly throttle: LoginThrottle;
  private readonly gate: PasswordCheckGate;

  constructor(@Inject(APP_CONFIG) config: Pick<AppConfig, 'login'>) {
    this.limits = config.login;
    this.throttle = new LoginThrottle(this.limits);
    this.gate = new PasswordCheckGate(this.limits.maxConcurrentHashes, this.limits.maxQueuedHashes);
  }

  /**
   * Runs `check` (look the account up, verify the password with `hash`) if
   * this login may be tried, and settles the throttle by its result: null
   * means the credentials were wrong.
   */
  async verify<T>(username: string, origin: LoginOrigin, check: (hash: HashRunner) => Promise<T | null>): Promise<T | null> {
    const attempt = this.admit(username, origin);
    const hash: HashRunner = (work) => this.gate.run(work, origin === SYSTEM_LOGIN);
    let outcome: Outcome = 'unchecked';
    try {
      const verified = await check(hash);
      outcome = verified === null ? 'rejected' : 'verified';
      return verified;
    } finally {
      if (attempt !== undefined) this.settle(attempt, outcome);
    }
  }

  /** How the hash bound has held: the most hashes that ran at once, and how many ran. */
  get hashStats(): Readonly<{ peakRunning: number; completed: number }> {
    return this.gate.stats;
  }

  private admit(username: string, origin: LoginOrigin): LoginAttempt | undefined {
    if (origin === SYSTEM_LOGIN) return undefined;
    this.countAccount(origin.accounts, username);
    return this.throttle.admit(origin.peer, username);
  }

  /** A batch could otherwise try a thousand usernames for the price of one request. */
  private countAccount(accounts: Set<string>, username: string): void {
    if (accounts.has(username)) return;
    if (accounts.size >= this.limits.maxAccountsPerRequest) {
      throw new DomainError(
        DomainErrorCode.TooManyLogins,
        `too many accounts in one request: at most ${this.limits.maxAccountsPerRequest} usernames per request; send the others in another request`,
      );
    }
    accounts.add(username);
  }

  private settle(attempt: LoginAttempt, outcome: Outcome): void {
    if (outcome === 'verified') this.throttle.succeeded(attempt);
    else if (outcome === 'unchecked') this.throttle.withdrawn(attempt);
  }
}

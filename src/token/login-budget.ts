import { Inject, Injectable, Logger, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import { LoginRefusedError } from './login-refused.error';
import { APP_CONFIG, type AppConfig, type LoginLimits } from '../config/app.config';
import { type LoginAttempt, LoginThrottle } from './login-throttle';
import { LoginThrottleRepository } from './login-throttle.repository';
import { PasswordCheckGate } from './password-check-gate';
import { RecentLogins } from './recent-logins';

/**
 * A login by a client: its address, and the usernames the other calls of the
 * same request (HTTP body or WebSocket frame) logged in as. The transport's
 * RpcRequest is one.
 */
export interface ClientLogin {
  readonly peer: string;
  readonly accounts: Set<string>;
  /** What a line logged about this login adds to carry its request's id. */
  readonly logFields?: { readonly reqId?: string };
}

/** A login the service makes for itself (re-checking a subscriber's credential): neither capped nor throttled. */
export const SYSTEM_LOGIN = 'system';

export type LoginOrigin = ClientLogin | typeof SYSTEM_LOGIN;

/** Runs one password hash within the process's bound on them. */
export type HashRunner = <T>(hash: () => Promise<T>) => Promise<T>;

type Outcome = 'verified' | 'rejected' | 'unchecked';

/** How often each instance deletes the throttle's expired rows. */
const PRUNE_INTERVAL_MS = 60_000;

/**
 * What password logins may cost: every rule that can refuse one is applied
 * before its username is looked up or any hash runs, so a refusal costs at
 * most the throttle's one statement; a login takes its place in
 * PasswordCheckGate first, which bounds the hashes that run and refuses a
 * flood before it reaches the database. `key:secret` credentials never come
 * here (their check is one SHA-256), and so never touch the throttle's table.
 */
@Injectable()
export class LoginBudget implements OnModuleInit, OnModuleDestroy {
  private readonly logger = new Logger(LoginBudget.name);
  private readonly limits: LoginLimits;
  /** Shared by every instance on the database; only password logins by clients reach it. */
  private readonly throttle: LoginThrottle;
  private readonly gate: PasswordCheckGate;
  private readonly recent: RecentLogins;
  private pruneTimer?: NodeJS.Timeout;

  constructor(
    @Inject(APP_CONFIG) config: Pick<AppConfig, 'login'> & Partial<Pick<AppConfig, 'tokenCacheTtlMs'>>,
    throttleRows: LoginThrottleRepository,
  ) {
    this.limits = config.login;
    this.throttle = new LoginThrottle(this.limits, throttleRows);
    this.gate = new PasswordCheckGate(this.limits.maxConcurrentHashes, this.limits.maxQueuedHashes);
    // As long as the credential cache trusts what it read: the proof a repeat needs lives there.
    this.recent = new RecentLogins(config.tokenCacheTtlMs ?? 0);
  }

  onModuleInit(): void {
    this.pruneTimer = setInterval(() => void this.prune(), PRUNE_INTERVAL_MS).unref();
  }

  onModuleDestroy(): void {
    clearInterval(this.pruneTimer);
  }

  /** Deletes the throttle's expired rows; a failure waits for the next round (the rows only take room). */
  async prune(): Promise<void> {
    try {
      await this.throttle.prune();
    } catch (err) {
      this.logger.warn(`could not prune the login throttle: ${(err as Error).message}`);
    }
  }

  /**
   * Runs `check` (look the account up, verify the password with `hash`) if
   * this login may be tried, and settles the throttle by its result: null
   * means the credentials were wrong. `repeat` answers, without the database
   * or a hash, whether the password is one verified a moment ago (null when it
   * cannot tell); it is asked only for a client repeating a login this
   * instance just saw succeed from the same address.
   */
  async verify<T>(
    username: string,
    origin: LoginOrigin,
    check: (hash: HashRunner) => Promise<T | null>,
    repeat?: () => T | null,
  ): Promise<T | null> {
    const client = origin === SYSTEM_LOGIN ? undefined : origin;
    if (client !== undefined) {
      this.countAccount(client.accounts, username);
      if (repeat !== undefined && this.recent.isRepeat(client.peer, username)) {
        const verified = repeat();
        if (verified !== null) return verified;
      }
    }
    const leave = this.gate.enter(client === undefined);
    try {
      const attempt = client === undefined ? undefined : { client, entry: await this.admit(client, username) };
      const hash: HashRunner = (work) => this.gate.runEntered(work);
      let outcome: Outcome = 'unchecked';
      try {
        const verified = await check(hash);
        outcome = verified === null ? 'rejected' : 'verified';
        return verified;
      } finally {
        if (attempt !== undefined) await this.settle(attempt.entry, outcome, attempt.client, username);
      }
    } finally {
      leave();
    }
  }

  /** How the hash bound has held: the most hashes that ran at once, and how many ran. */
  get hashStats(): Readonly<{ peakRunning: number; completed: number }> {
    return this.gate.stats;
  }

  private async admit(client: ClientLogin, username: string): Promise<LoginAttempt> {
    try {
      return await this.throttle.admit(client.peer, username);
    } catch (error) {
      this.recent.failed(client.peer);
      throw error;
    }
  }

  /** A batch could otherwise try a thousand usernames for the price of one request. */
  private countAccount(accounts: Set<string>, username: string): void {
    if (accounts.has(username)) return;
    if (accounts.size >= this.limits.maxAccountsPerRequest) {
      throw new LoginRefusedError(
        'accounts_per_request',
        `too many accounts in one request: at most ${this.limits.maxAccountsPerRequest} usernames per request; send the others in another request`,
        { limit: this.limits.maxAccountsPerRequest },
      );
    }
    accounts.add(username);
  }

  /**
   * A settlement that cannot be written leaves the attempt counted as failed:
   * the caller keeps the answer its password earned, and the throttle errs on the safe side.
   */
  private async settle(attempt: LoginAttempt, outcome: Outcome, origin: ClientLogin, username: string): Promise<void> {
    if (outcome === 'verified') this.recent.succeeded(origin.peer, username);
    else if (outcome === 'rejected') this.recent.failed(origin.peer);
    try {
      if (outcome === 'verified') await this.throttle.succeeded(attempt);
      else if (outcome === 'unchecked') await this.throttle.withdrawn(attempt);
    } catch (err) {
      this.logger.warn({ err, ...origin.logFields }, 'could not settle a login attempt');
    }
  }
}

import { createHash } from 'node:crypto';
import { isIPv6 } from 'node:net';
import type { AdmitRules, LoginThrottleRepository } from './login-throttle.repository';
import { LoginRefusedError } from './login-refused.error';

export interface LoginThrottleLimits {
  /** Failed logins one address may make within ADDRESS_WINDOW_MS before it is blocked. */
  failuresPerAddress: number;
  /** How long an address that went past its failures is refused. */
  addressBlockMs: number;
  /** Failed logins a username may take before each further one doubles its wait. */
  failuresPerUsername: number;
  /** The longest a username waits, however many failures it took. */
  usernameBackoffMaxMs: number;
}

/** The address rule counts failures per minute. */
export const ADDRESS_WINDOW_MS = 60_000;

/** The first wait of a username past its free failures; it doubles with each further failure. */
export const USERNAME_BACKOFF_BASE_MS = 1_000;

/** A username's failures are forgotten after a day without one (and at its next success). */
export const USERNAME_FAILURES_KEPT_MS = 86_400_000;

/** The addresses that logged in to a username are remembered for 30 days after its last success. */
export const KNOWN_ADDRESSES_KEPT_MS = 30 * 86_400_000;

/** Addresses remembered per username as having logged in to it. */
const KNOWN_ADDRESSES_PER_USERNAME = 4;

/** Expired rows deleted per statement, so that a prune never holds many locks for long. */
const PRUNE_BATCH = 10_000;

/** One admitted login, to be settled once the password has been checked. */
export interface LoginAttempt {
  /** The throttle_key of the address's row (it is also what a username remembers as a familiar address). */
  readonly address: string;
  /** The throttle_key of the username's row. */
  readonly username: string;
}

/** The wait in whole seconds, as the message says it: refusals for a known and an unknown username stay identical. */
export const tooManyLogins = (what: 'address' | 'username', retryMs: number) => {
  const seconds = Math.max(1, Math.ceil(retryMs / 1000));
  return new LoginRefusedError(what, `too many failed logins for this ${what}, retry in ${seconds} s`, { retry_after_ms: seconds * 1000 });
};

/**
 * Throttles password guessing, per client address and per username. Its
 * state lives in the database (table login_throttle, LoginThrottleRepository),
 * so every instance on it enforces one budget: each decision is one statement
 * that reads and counts at once, under the rows' locks.
 *
 * An attempt counts as a failure from the moment it is admitted until it is
 * proven right, so the calls of one batch, which run concurrently, cannot all
 * pass the check before the first of them has failed.
 *
 * The address rule comes first: an attacker's own address is blocked without
 * touching the usernames it tries, and other addresses are not affected. The
 * username rule catches guessing spread over many addresses; its wait doubles
 * per failure but is capped, attempts refused while waiting do not count, and
 * addresses that have logged in to the username before are exempt from it, so
 * an attacker can delay a real user's login from a new address by at most the
 * cap and cannot block it from a familiar one at all. Unknown usernames are
 * throttled exactly like real ones, so the refusal says nothing about which exist.
 */
export class LoginThrottle {
  /** What every admission applies: the same for each, so made once. */
  private readonly rules: AdmitRules;

  constructor(
    limits: LoginThrottleLimits,
    private readonly rows: LoginThrottleRepository,
    private readonly clock: () => number = Date.now,
  ) {
    this.rules = {
      addressWindowMs: ADDRESS_WINDOW_MS,
      failuresPerAddress: limits.failuresPerAddress,
      addressBlockMs: limits.addressBlockMs,
      failuresPerUsername: limits.failuresPerUsername,
      usernameBackoffBaseMs: USERNAME_BACKOFF_BASE_MS,
      usernameBackoffMaxMs: limits.usernameBackoffMaxMs,
      usernameFailuresKeptMs: USERNAME_FAILURES_KEPT_MS,
    };
  }

  /** Refuses (TooManyLogins, with the wait) or counts the attempt as failed until `succeeded`. */
  async admit(peer: string, username: string): Promise<LoginAttempt> {
    const now = this.clock();
    const attempt = { address: addressThrottleKey(peer), username: usernameThrottleKey(username) };
    const row = await this.rows.admit(attempt, now, this.rules);
    const addressBlockedUntil = Number(row.address_blocked_until);
    if (addressBlockedUntil > now) throw tooManyLogins('address', addressBlockedUntil - now);
    if (Number(row.username_counted) === 0) {
      await this.rows.withdrawAddress(attempt.address);
      // The wait as it was when the statement began: another instance may have lengthened it since.
      throw tooManyLogins('username', Number(row.username_blocked_until ?? now) - now);
    }
    return attempt;
  }

  /** The password was right: the username starts afresh and the address is remembered for it. */
  async succeeded(attempt: LoginAttempt): Promise<void> {
    await this.rows.succeeded(attempt, this.clock(), KNOWN_ADDRESSES_KEPT_MS, KNOWN_ADDRESSES_PER_USERNAME);
  }

  /**
   * The password was never checked (the database or the hash queue refused):
   * the address gets its attempt back. A username wait already started stays.
   */
  async withdrawn(attempt: LoginAttempt): Promise<void> {
    await this.rows.withdraw(attempt);
  }

  /** Deletes the rows whose state no longer matters; how many it deleted. */
  async prune(): Promise<number> {
    let total = 0;
    for (;;) {
      const deleted = await this.rows.prune(this.clock(), PRUNE_BATCH);
      total += deleted;
      if (deleted < PRUNE_BATCH) return total;
    }
  }
}

const digest = (text: string) => createHash('sha256').update(text).digest('base64url');

/** The row of an address: the address itself when it reads as one, so an operator can see who is blocked. */
export function addressThrottleKey(peer: string): string {
  const key = addressKey(peer);
  return /^[0-9a-f.:/]{1,60}$/i.test(key) ? `a:${key}` : `a#${digest(key)}`;
}

/** The row of a username: a digest, so the table holds no usernames (nor passwords typed in their place). */
export function usernameThrottleKey(username: string): string {
  return `u:${digest(username)}`;
}

/**
 * What the address rule counts by: an IPv4 address (also when IPv4-mapped), or
 * an IPv6 /64, since one IPv6 client is commonly given a whole /64 to rotate through.
 */
export function addressKey(peer: string): string {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(peer);
  if (mapped) return mapped[1];
  if (!isIPv6(peer)) return peer;
  return `${expandIPv6(peer).slice(0, 4).join(':')}::/64`;
}

function expandIPv6(address: string): string[] {
  const [head, tail = ''] = address.split('%')[0].split('::');
  const left = head === '' ? [] : head.split(':');
  const right = tail === '' ? [] : tail.split(':');
  const zeros = address.includes('::') ? Array<string>(8 - left.length - right.length).fill('0') : [];
  return [...left, ...zeros, ...right].map((group) => group.toLowerCase().replace(/^0+(?=.)/, ''));
}

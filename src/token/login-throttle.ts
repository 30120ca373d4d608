import { isIPv6 } from 'node:net';
import { BoundedMap } from '../common/bounded-map';
import { DomainError, DomainErrorCode } from '../common/domain.error';

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

/** Throttle state is kept for this many addresses and usernames, so a flood of names cannot grow memory. */
const MAX_TRACKED = 100_000;

/** Addresses remembered per username as having logged in to it. */
const KNOWN_ADDRESSES_PER_USERNAME = 4;

interface AddressState {
  windowStart: number;
  failures: number;
  blockedUntil: number;
}

interface UsernameState {
  failures: number;
  blockedUntil: number;
}

/** One admitted login, to be settled once the password has been checked. */
export interface LoginAttempt {
  readonly address: string;
  readonly username: string;
}

export const tooManyLogins = (what: string, retryMs: number) =>
  new DomainError(
    DomainErrorCode.TooManyLogins,
    `too many failed logins for this ${what}, retry in ${Math.max(1, Math.ceil(retryMs / 1000))} s`,
  );

/**
 * Throttles password guessing, per client address and per username.
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
  private readonly addresses = new BoundedMap<string, AddressState>(MAX_TRACKED);
  private readonly usernames = new BoundedMap<string, UsernameState>(MAX_TRACKED);
  private readonly knownAddresses = new BoundedMap<string, string[]>(MAX_TRACKED);

  constructor(
    private readonly limits: LoginThrottleLimits,
    private readonly clock: () => number = Date.now,
  ) {}

  /** Refuses (TooManyLogins, with the wait) or counts the attempt as failed until `succeeded`. */
  admit(peer: string, username: string): LoginAttempt {
    const now = this.clock();
    const attempt = { address: addressKey(peer), username };
    const address = this.currentAddressState(attempt.address, now);
    this.refuseBlockedAddress(attempt.address, address, now);
    const known = this.isKnownAddress(attempt);
    const user = this.usernames.get(username) ?? { failures: 0, blockedUntil: 0 };
    if (!known && now < user.blockedUntil) throw tooManyLogins('username', user.blockedUntil - now);
    address.failures++;
    this.addresses.set(attempt.address, address);
    user.failures++;
    if (user.failures > this.limits.failuresPerUsername) user.blockedUntil = now + this.backoffMs(user.failures);
    this.usernames.set(username, user);
    return attempt;
  }

  /** The password was right: the username starts afresh and the address is remembered for it. */
  succeeded(attempt: LoginAttempt): void {
    this.withdrawn(attempt);
    this.usernames.delete(attempt.username);
    const known = (this.knownAddresses.get(attempt.username) ?? []).filter((a) => a !== attempt.address);
    this.knownAddresses.set(attempt.username, [attempt.address, ...known].slice(0, KNOWN_ADDRESSES_PER_USERNAME));
  }

  /**
   * The password was never checked (the database or the hash queue refused):
   * the address gets its attempt back. A username wait already started stays.
   */
  withdrawn(attempt: LoginAttempt): void {
    const address = this.addresses.get(attempt.address);
    if (address !== undefined && address.failures > 0) address.failures--;
    const user = this.usernames.get(attempt.username);
    if (user !== undefined && user.failures > 0) user.failures--;
  }

  private currentAddressState(address: string, now: number): AddressState {
    const state = this.addresses.get(address);
    if (state === undefined || (now - state.windowStart >= ADDRESS_WINDOW_MS && now >= state.blockedUntil)) {
      return { windowStart: now, failures: 0, blockedUntil: 0 };
    }
    return state;
  }

  private refuseBlockedAddress(address: string, state: AddressState, now: number): void {
    if (now >= state.blockedUntil && state.failures < this.limits.failuresPerAddress) return;
    if (now >= state.blockedUntil) {
      state.blockedUntil = now + this.limits.addressBlockMs;
      // The block outlasts the window it was earned in; a fresh window starts when it ends.
      state.windowStart = state.blockedUntil;
      state.failures = 0;
      this.addresses.set(address, state);
    }
    throw tooManyLogins('address', state.blockedUntil - now);
  }

  private isKnownAddress(attempt: LoginAttempt): boolean {
    return this.knownAddresses.get(attempt.username)?.includes(attempt.address) ?? false;
  }

  private backoffMs(failures: number): number {
    const doublings = Math.min(failures - this.limits.failuresPerUsername - 1, 40);
    return Math.min(USERNAME_BACKOFF_BASE_MS * 2 ** doublings, this.limits.usernameBackoffMaxMs);
  }
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

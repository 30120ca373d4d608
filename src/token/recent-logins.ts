import { BoundedMap } from '../common/bounded-map';
import { addressThrottleKey } from './login-throttle';

const MAX_ADDRESSES = 10_000;
const MAX_USERNAMES_PER_ADDRESS = 16;

/**
 * The password logins this instance saw succeed a moment ago, by client
 * address and username. A client that repeats one (a dashboard sending
 * `username|password` with every call) may skip the shared throttle's
 * statements while the proof of its password is still cached: the throttle
 * limits guesses, and a repeat is not a guess — a wrong password never takes
 * this path, and any failure or refusal seen from the address ends it there.
 */
export class RecentLogins {
  private readonly byAddress = new BoundedMap<string, BoundedMap<string, number>>(MAX_ADDRESSES);

  constructor(
    /** How long a success lets repeats skip the throttle; 0 never. */
    private readonly windowMs: number,
    private readonly clock: () => number = Date.now,
  ) {}

  succeeded(peer: string, username: string): void {
    if (this.windowMs <= 0) return;
    const address = addressThrottleKey(peer);
    let usernames = this.byAddress.get(address);
    if (usernames === undefined) {
      usernames = new BoundedMap(MAX_USERNAMES_PER_ADDRESS);
      this.byAddress.set(address, usernames);
    }
    usernames.set(username, this.clock() + this.windowMs);
  }

  /** A failed or refused login from this address: its repeats go through the throttle again. */
  failed(peer: string): void {
    this.byAddress.delete(addressThrottleKey(peer));
  }

  isRepeat(peer: string, username: string): boolean {
    const until = this.byAddress.get(addressThrottleKey(peer))?.get(username);
    return until !== undefined && this.clock() < until;
  }
}

import { Injectable } from '@nestjs/common';
import { Database } from '../database/database';
import { ADMIT, PRUNE, SUCCEEDED, WITHDRAW, WITHDRAW_ADDRESS } from './login-throttle.sql';

/** The rows one login counts against: the throttle_keys of its address and of its username. */
export interface ThrottleKeys {
  readonly address: string;
  readonly username: string;
}

/** The rules an admission applies, in the units the table stores (ms, counts). */
export interface AdmitRules {
  addressWindowMs: number;
  failuresPerAddress: number;
  addressBlockMs: number;
  failuresPerUsername: number;
  usernameBackoffBaseMs: number;
  usernameBackoffMaxMs: number;
  usernameFailuresKeptMs: number;
}

/** What an admission found: until when the address is blocked, whether the username counted the attempt, until when it waits. */
export interface AdmitRow {
  address_blocked_until: string | number;
  username_counted: string | number;
  username_blocked_until: string | number | null;
}

/**
 * The `login_throttle` table: the only code that reads or writes it. Its
 * statements are fixed texts (login-throttle.sql.ts); the ones every password
 * login runs are named, so each connection parses them once.
 */
@Injectable()
export class LoginThrottleRepository {
  private readonly admitText: string;
  private readonly withdrawAddressText: string;
  private readonly withdrawText: string;
  private readonly succeededText: string;

  constructor(private readonly db: Database) {
    this.admitText = db.prepare(ADMIT, { named: true });
    this.withdrawAddressText = db.prepare(WITHDRAW_ADDRESS, { named: true });
    this.withdrawText = db.prepare(WITHDRAW, { named: true });
    this.succeededText = db.prepare(SUCCEEDED, { named: true });
  }

  /** Counts an attempt against the address and, if it admits it, the username (see ADMIT). */
  async admit(keys: ThrottleKeys, now: number, rules: AdmitRules): Promise<AdmitRow> {
    const [row] = await this.db.rows<AdmitRow>({
      text: this.admitText,
      values: [
        keys.address,
        keys.username,
        now,
        rules.addressWindowMs,
        rules.failuresPerAddress,
        rules.addressBlockMs,
        rules.failuresPerUsername,
        rules.usernameBackoffBaseMs,
        rules.usernameBackoffMaxMs,
        rules.usernameFailuresKeptMs,
      ],
    });
    return row;
  }

  /** Gives the address its attempt back. */
  async withdrawAddress(address: string): Promise<void> {
    await this.db.rows({ text: this.withdrawAddressText, values: [address] });
  }

  /** Gives the address and the username their attempt back. */
  async withdraw(keys: ThrottleKeys): Promise<void> {
    await this.db.rows({ text: this.withdrawText, values: [keys.address, keys.username] });
  }

  /** The username starts afresh and remembers the address first among its `known` (kept `keptMs`); the address gets its attempt back. */
  async succeeded(keys: ThrottleKeys, now: number, keptMs: number, known: number): Promise<void> {
    await this.db.rows({ text: this.succeededText, values: [keys.address, keys.username, now, keptMs, known] });
  }

  /** Deletes up to `batch` rows expired by `now`, skipping locked ones; how many went. */
  async prune(now: number, batch: number): Promise<number> {
    const [row] = await this.db.rows<{ deleted: string | number }>({ text: PRUNE, values: [now, batch] });
    return Number(row.deleted);
  }
}

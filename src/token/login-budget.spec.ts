import { Logger } from '@nestjs/common';
import { DEFAULT_LOGIN_LIMITS } from '../config/app.config';
import type { Database } from '../database/database';
import type { Statement } from '../database/statement';
import { LoginBudget } from './login-budget';
import { LoginThrottleRepository } from './login-throttle.repository';

/** The throttle's table over a database that answers each statement's text with `answer`. */
const throttleOver = (answer: (text: string) => Promise<unknown[]>) =>
  new LoginThrottleRepository({ prepare: (text: string) => text, rows: ({ text }: Statement) => answer(text) } as unknown as Database);

/**
 * A database that admits every login and then fails the statement that
 * settles it: the one case where the budget logs on its own, after the call
 * that caused the line has already been answered.
 */
function databaseFailingSettlements(): LoginThrottleRepository {
  return throttleOver(async (text: string) => {
    if (text.includes('address_blocked_until')) return [{ address_blocked_until: '0', username_counted: 1, username_blocked_until: null }];
    throw new Error('connection terminated');
  });
}

/** A database that admits every login and counts the statements it was sent. */
function countingDatabase(): { throttle: LoginThrottleRepository; statements: () => number } {
  let sent = 0;
  const query = async (text: string) => {
    sent++;
    return text.includes('address_blocked_until') ? [{ address_blocked_until: '0', username_counted: 1, username_blocked_until: null }] : [];
  };
  return { throttle: throttleOver(query), statements: () => sent };
}

describe(LoginBudget.name, () => {
  afterEach(() => jest.restoreAllMocks());

  describe('a client repeating a login that just succeeded', () => {
    const client = () => ({ peer: '192.0.2.7', accounts: new Set<string>() });
    const verifiedBy = (answer: string | null) => async () => answer;

    it('is answered by the repeat check with no statement, once a full login from its address succeeded', async () => {
      const db = countingDatabase();
      const sut = new LoginBudget({ login: DEFAULT_LOGIN_LIMITS, tokenCacheTtlMs: 60_000 }, db.throttle);

      await expect(sut.verify('alice', client(), verifiedBy('alice-token'), () => 'repeat')).resolves.toBe('alice-token');
      const afterFirst = db.statements();
      expect(afterFirst).toBeGreaterThan(0);

      await expect(sut.verify('alice', client(), verifiedBy('unused'), () => 'repeat')).resolves.toBe('repeat');
      expect(db.statements()).toBe(afterFirst);
    });

    it('goes through the throttle when the repeat check cannot vouch for the password, and a failure ends the repeats of its address', async () => {
      const db = countingDatabase();
      const sut = new LoginBudget({ login: DEFAULT_LOGIN_LIMITS, tokenCacheTtlMs: 60_000 }, db.throttle);
      await sut.verify('alice', client(), verifiedBy('alice-token'));

      const beforeWrong = db.statements();
      await expect(sut.verify('alice', client(), verifiedBy(null), () => null)).resolves.toBeNull();
      expect(db.statements()).toBeGreaterThan(beforeWrong);

      const afterWrong = db.statements();
      await expect(sut.verify('alice', client(), verifiedBy('alice-token'), () => 'repeat')).resolves.toBe('alice-token');
      expect(db.statements()).toBeGreaterThan(afterWrong);
    });

    it('is never skipped past the throttle without a success seen first, nor with the credential cache off', async () => {
      for (const tokenCacheTtlMs of [60_000, 0]) {
        const db = countingDatabase();
        const sut = new LoginBudget({ login: DEFAULT_LOGIN_LIMITS, tokenCacheTtlMs }, db.throttle);
        if (tokenCacheTtlMs === 0) await sut.verify('alice', client(), verifiedBy('alice-token'));
        const before = db.statements();
        await expect(sut.verify('alice', client(), verifiedBy('alice-token'), () => 'repeat')).resolves.toBe('alice-token');
        expect(db.statements()).toBeGreaterThan(before);
      }
    });
  });

  it('logs a settlement that cannot be written with the request id of the login that caused it, and keeps the answer', async () => {
    const warn = jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    const sut = new LoginBudget({ login: DEFAULT_LOGIN_LIMITS }, databaseFailingSettlements());

    const origin = { peer: '192.0.2.7', accounts: new Set<string>(), logFields: { reqId: 'req-42' } };
    const verified = await sut.verify('alice', origin, async () => 'alice-token');

    expect(verified).toBe('alice-token');
    expect(warn).toHaveBeenCalledTimes(1);
    expect(warn.mock.calls[0][0]).toMatchObject({ reqId: 'req-42' });
    expect(warn.mock.calls[0][1]).toBe('could not settle a login attempt');
  });
});

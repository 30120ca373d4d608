import type { DataSource } from 'typeorm';
import { createTestDatabase, type TestDatabase } from '../../test/support/test-database';
import { DomainErrorCode } from '../common/domain.error';
import { openDataSource } from '../database/data-source.factory';
import { Database } from '../database/database';
import { PreparedStatements } from '../database/prepared-statements';
import {
  ADDRESS_WINDOW_MS,
  addressKey,
  addressThrottleKey,
  LoginThrottle,
  type LoginThrottleLimits,
  USERNAME_FAILURES_KEPT_MS,
  usernameThrottleKey,
} from './login-throttle';
import { LoginThrottleRepository } from './login-throttle.repository';

const LIMITS: LoginThrottleLimits = {
  failuresPerAddress: 3,
  addressBlockMs: 30_000,
  failuresPerUsername: 2,
  usernameBackoffMaxMs: 8_000,
};

let database: TestDatabase;
let dataSource: DataSource;

let repository: LoginThrottleRepository;

/** A throttle over the shared table (emptied before each test), on a clock the test moves. */
function throttle(limits: Partial<LoginThrottleLimits> = {}, clock = { now: 1_000_000 }) {
  const sut = new LoginThrottle({ ...LIMITS, ...limits }, repository, () => clock.now);
  return { sut, clock };
}

/** The refusal's message, or 'admitted' (the attempt is then left counted as failed). */
async function tryLogin(sut: LoginThrottle, peer: string, username: string): Promise<string> {
  try {
    await sut.admit(peer, username);
    return 'admitted';
  } catch (error) {
    expect(error).toMatchObject({ code: DomainErrorCode.TooManyLogins });
    return (error as Error).message;
  }
}

beforeAll(async () => {
  database = await createTestDatabase();
  dataSource = await openDataSource({ database: database.target, poolSize: 4, statementTimeoutMs: 5_000 });
  repository = new LoginThrottleRepository(new Database(dataSource, new PreparedStatements()));
});

afterAll(async () => {
  await dataSource?.destroy();
  await database?.drop();
});

beforeEach(() => dataSource.query('DELETE FROM login_throttle'));

describe(LoginThrottle.name, () => {
  describe('per address', () => {
    it('blocks an address past its failures for the block time, naming the wait', async () => {
      const { sut, clock } = throttle({ failuresPerUsername: 100 });
      for (let i = 0; i < 3; i++) expect(await tryLogin(sut, '10.0.0.1', `user${i}`)).toBe('admitted');
      expect(await tryLogin(sut, '10.0.0.1', 'other')).toBe('too many failed logins for this address, retry in 30 s');
      clock.now += 29_500;
      expect(await tryLogin(sut, '10.0.0.1', 'other')).toBe('too many failed logins for this address, retry in 1 s');
      clock.now += 500;
      expect(await tryLogin(sut, '10.0.0.1', 'other')).toBe('admitted');
    });

    it('does not block other addresses', async () => {
      const { sut } = throttle({ failuresPerUsername: 100 });
      for (let i = 0; i < 4; i++) await tryLogin(sut, '10.0.0.1', 'alice');
      expect(await tryLogin(sut, '10.0.0.2', 'alice')).toBe('admitted');
    });

    it('forgets failures older than the window', async () => {
      const { sut, clock } = throttle({ failuresPerUsername: 100 });
      for (let i = 0; i < 3; i++) await tryLogin(sut, '10.0.0.1', 'alice');
      clock.now += ADDRESS_WINDOW_MS;
      expect(await tryLogin(sut, '10.0.0.1', 'alice')).toBe('admitted');
    });

    it('gives an attempt back when it succeeded or was never checked', async () => {
      const { sut } = throttle({ failuresPerUsername: 100 });
      await sut.succeeded(await sut.admit('10.0.0.1', 'alice'));
      await sut.withdrawn(await sut.admit('10.0.0.1', 'alice'));
      for (let i = 0; i < 3; i++) expect(await tryLogin(sut, '10.0.0.1', 'alice')).toBe('admitted');
      expect(await tryLogin(sut, '10.0.0.1', 'alice')).toContain('for this address');
    });

    it('counts an IPv6 /64 as one address, and an IPv4-mapped address as the IPv4 one', () => {
      expect(addressKey('2001:db8:1:2::1')).toBe(addressKey('2001:0db8:0001:0002:ffff:1:2:3'));
      expect(addressKey('2001:db8:1:2::1')).not.toBe(addressKey('2001:db8:1:3::1'));
      expect(addressKey('::ffff:10.0.0.1')).toBe('10.0.0.1');
      expect(addressKey('::1')).toBe('0:0:0:0::/64');
    });
  });

  describe('per username', () => {
    it('doubles the wait with each failure past the free ones, up to the cap, from any address', async () => {
      const { sut, clock } = throttle({ failuresPerAddress: 100 });
      const waits: string[] = [];
      for (let i = 0; i < 7; i++) {
        expect(await tryLogin(sut, `10.0.0.${i}`, 'alice')).toBe('admitted');
        waits.push(await tryLogin(sut, `10.1.0.${i}`, 'alice'));
        clock.now += 60_000;
      }
      expect(waits).toEqual([
        'admitted',
        'too many failed logins for this username, retry in 1 s',
        'too many failed logins for this username, retry in 2 s',
        'too many failed logins for this username, retry in 4 s',
        'too many failed logins for this username, retry in 8 s',
        'too many failed logins for this username, retry in 8 s',
        'too many failed logins for this username, retry in 8 s',
      ]);
    });

    it('does not count attempts refused while waiting, so the wait never grows past the cap', async () => {
      const { sut, clock } = throttle({ failuresPerAddress: 1_000 });
      for (let i = 0; i < 3; i++) await tryLogin(sut, '10.0.0.1', 'alice');
      for (let i = 0; i < 100; i++) await tryLogin(sut, '10.0.0.1', 'alice');
      clock.now += 1_000;
      expect(await tryLogin(sut, '10.0.0.1', 'alice')).toBe('admitted');
    });

    it('starts afresh after a success', async () => {
      const { sut } = throttle({ failuresPerAddress: 100 });
      await tryLogin(sut, '10.0.0.1', 'alice');
      await tryLogin(sut, '10.0.0.1', 'alice');
      await sut.succeeded(await sut.admit('10.0.0.9', 'alice'));
      expect(await tryLogin(sut, '10.0.0.1', 'alice')).toBe('admitted');
      expect(await tryLogin(sut, '10.0.0.1', 'alice')).toBe('admitted');
    });

    it('never refuses an address that logged in to the username before', async () => {
      const { sut } = throttle({ failuresPerAddress: 100 });
      await sut.succeeded(await sut.admit('10.0.0.9', 'alice'));
      for (let i = 0; i < 5; i++) await tryLogin(sut, '10.6.6.6', 'alice');
      expect(await tryLogin(sut, '10.6.6.7', 'alice')).toContain('for this username');
      expect(await tryLogin(sut, '10.0.0.9', 'alice')).toBe('admitted');
    });

    it('throttles each username on its own', async () => {
      const { sut } = throttle({ failuresPerAddress: 100 });
      for (let i = 0; i < 3; i++) await tryLogin(sut, '10.0.0.1', 'alice');
      expect(await tryLogin(sut, '10.0.0.1', 'alice')).toContain('for this username');
      expect(await tryLogin(sut, '10.0.0.1', 'bob')).toBe('admitted');
    });
  });

  it('counts an admitted attempt as failed at once, so concurrent attempts cannot all pass', async () => {
    const { sut } = throttle({ failuresPerUsername: 100 });
    const outcomes = await Promise.all(Array.from({ length: 10 }, () => tryLogin(sut, '10.0.0.1', 'alice')));
    expect(outcomes.filter((o) => o === 'admitted')).toHaveLength(3);
  });

  describe('shared by the instances on one database', () => {
    it('counts the failures taken on one instance against the others', async () => {
      const clock = { now: 1_000_000 };
      const [a, b] = [throttle({ failuresPerUsername: 100 }, clock).sut, throttle({ failuresPerUsername: 100 }, clock).sut];
      expect(await tryLogin(a, '10.0.0.1', 'u1')).toBe('admitted');
      expect(await tryLogin(b, '10.0.0.1', 'u2')).toBe('admitted');
      expect(await tryLogin(a, '10.0.0.1', 'u3')).toBe('admitted');
      expect(await tryLogin(b, '10.0.0.1', 'u4')).toBe('too many failed logins for this address, retry in 30 s');
      expect(await tryLogin(a, '10.0.0.1', 'u4')).toContain('for this address');
    });

    it('admits no more concurrent attempts over all instances than the budget', async () => {
      const clock = { now: 1_000_000 };
      const instances = [0, 1, 2].map(() => throttle({ failuresPerUsername: 100 }, clock).sut);
      const outcomes = await Promise.all(Array.from({ length: 12 }, (_, i) => tryLogin(instances[i % 3], '10.0.0.1', 'alice')));
      expect(outcomes.filter((o) => o === 'admitted')).toHaveLength(3);
    });

    it('lets a username that logged in on one instance in from that address on another', async () => {
      const clock = { now: 1_000_000 };
      const [a, b] = [throttle({ failuresPerAddress: 100 }, clock).sut, throttle({ failuresPerAddress: 100 }, clock).sut];
      await a.succeeded(await a.admit('10.0.0.9', 'alice'));
      for (let i = 0; i < 5; i++) await tryLogin(a, '10.6.6.6', 'alice');
      expect(await tryLogin(b, '10.6.6.7', 'alice')).toContain('for this username');
      expect(await tryLogin(b, '10.0.0.9', 'alice')).toBe('admitted');
    });
  });

  describe('its rows', () => {
    const rows = () =>
      dataSource.query<{ throttle_key: string; failures: number; known_addresses: string[] }[]>(
        'SELECT throttle_key, failures, known_addresses FROM login_throttle ORDER BY throttle_key',
      );

    it('name addresses as they are and usernames by a digest only', async () => {
      const { sut } = throttle();
      await sut.succeeded(await sut.admit('10.0.0.1', 'alice|typed-the-password-here'));
      const stored = JSON.stringify(await rows());
      expect(stored).toContain('a:10.0.0.1');
      expect(stored).toContain(usernameThrottleKey('alice|typed-the-password-here'));
      expect(stored).not.toContain('alice');
      expect(addressThrottleKey('not an address')).toMatch(/^a#[A-Za-z0-9_-]{43}$/);
    });

    it('are pruned once their state no longer matters, and not before', async () => {
      const { sut, clock } = throttle();
      await tryLogin(sut, '10.0.0.1', 'alice');
      await sut.succeeded(await sut.admit('10.0.0.2', 'bob'));
      await tryLogin(sut, '10.0.0.3', 'carol');
      expect(await sut.prune()).toBe(0);
      clock.now += ADDRESS_WINDOW_MS + 1;
      expect(await sut.prune()).toBe(3);
      clock.now += USERNAME_FAILURES_KEPT_MS;
      expect(await sut.prune()).toBe(2);
      // Bob's familiar address is kept longer than failures are.
      expect((await rows()).map((r) => r.known_addresses)).toEqual([['a:10.0.0.2']]);
    });

    it('keep a block past the window it was earned in', async () => {
      const { sut, clock } = throttle({ failuresPerUsername: 100, addressBlockMs: 5 * ADDRESS_WINDOW_MS });
      for (let i = 0; i < 4; i++) await tryLogin(sut, '10.0.0.1', `u${i}`);
      clock.now += 2 * ADDRESS_WINDOW_MS;
      await sut.prune();
      expect(await tryLogin(sut, '10.0.0.1', 'u9')).toBe('too many failed logins for this address, retry in 180 s');
    });
  });
});

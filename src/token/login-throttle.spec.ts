import { DomainErrorCode } from '../common/domain.error';
import { ADDRESS_WINDOW_MS, addressKey, LoginThrottle, type LoginThrottleLimits } from './login-throttle';

const LIMITS: LoginThrottleLimits = {
  failuresPerAddress: 3,
  addressBlockMs: 30_000,
  failuresPerUsername: 2,
  usernameBackoffMaxMs: 8_000,
};

function throttle(limits: Partial<LoginThrottleLimits> = {}) {
  const clock = { now: 1_000_000 };
  const sut = new LoginThrottle({ ...LIMITS, ...limits }, () => clock.now);
  return { sut, clock };
}

/** The refusal's message, or 'admitted' (the attempt is then left counted as failed). */
function tryLogin(sut: LoginThrottle, peer: string, username: string): string {
  try {
    sut.admit(peer, username);
    return 'admitted';
  } catch (error) {
    expect(error).toMatchObject({ code: DomainErrorCode.TooManyLogins });
    return (error as Error).message;
  }
}

describe(LoginThrottle.name, () => {
  describe('per address', () => {
    it('blocks an address past its failures for the block time, naming the wait', () => {
      const { sut, clock } = throttle({ failuresPerUsername: 100 });
      for (let i = 0; i < 3; i++) expect(tryLogin(sut, '10.0.0.1', `user${i}`)).toBe('admitted');
      expect(tryLogin(sut, '10.0.0.1', 'other')).toBe('too many failed logins for this address, retry in 30 s');
      clock.now += 29_500;
      expect(tryLogin(sut, '10.0.0.1', 'other')).toBe('too many failed logins for this address, retry in 1 s');
      clock.now += 500;
      expect(tryLogin(sut, '10.0.0.1', 'other')).toBe('admitted');
    });

    it('does not block other addresses', () => {
      const { sut } = throttle({ failuresPerUsername: 100 });
      for (let i = 0; i < 4; i++) tryLogin(sut, '10.0.0.1', 'alice');
      expect(tryLogin(sut, '10.0.0.2', 'alice')).toBe('admitted');
    });

    it('forgets failures older than the window', () => {
      const { sut, clock } = throttle({ failuresPerUsername: 100 });
      for (let i = 0; i < 3; i++) tryLogin(sut, '10.0.0.1', 'alice');
      clock.now += ADDRESS_WINDOW_MS;
      expect(tryLogin(sut, '10.0.0.1', 'alice')).toBe('admitted');
    });

    it('gives an attempt back when it succeeded or was never checked', () => {
      const { sut } = throttle({ failuresPerUsername: 100 });
      sut.succeeded(sut.admit('10.0.0.1', 'alice'));
      sut.withdrawn(sut.admit('10.0.0.1', 'alice'));
      for (let i = 0; i < 3; i++) expect(tryLogin(sut, '10.0.0.1', 'alice')).toBe('admitted');
      expect(tryLogin(sut, '10.0.0.1', 'alice')).toContain('for this address');
    });

    it('counts an IPv6 /64 as one address, and an IPv4-mapped address as the IPv4 one', () => {
      expect(addressKey('2001:db8:1:2::1')).toBe(addressKey('2001:0db8:0001:0002:ffff:1:2:3'));
      expect(addressKey('2001:db8:1:2::1')).not.toBe(addressKey('2001:db8:1:3::1'));
      expect(addressKey('::ffff:10.0.0.1')).toBe('10.0.0.1');
      expect(addressKey('::1')).toBe('0:0:0:0::/64');
    });
  });

  describe('per username', () => {
    it('doubles the wait with each failure past the free ones, up to the cap, from any address', () => {
      const { sut, clock } = throttle({ failuresPerAddress: 100 });
      const waits: string[] = [];
      for (let i = 0; i < 7; i++) {
        expect(tryLogin(sut, `10.0.0.${i}`, 'alice')).toBe('admitted');
        waits.push(tryLogin(sut, `10.1.0.${i}`, 'alice'));
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

    it('does not count attempts refused while waiting, so the wait never grows past the cap', () => {
      const { sut, clock } = throttle({ failuresPerAddress: 1_000 });
      for (let i = 0; i < 3; i++) tryLogin(sut, '10.0.0.1', 'alice');
      for (let i = 0; i < 100; i++) tryLogin(sut, '10.0.0.1', 'alice');
      clock.now += 1_000;
      expect(tryLogin(sut, '10.0.0.1', 'alice')).toBe('admitted');
    });

    it('starts afresh after a success', () => {
      const { sut } = throttle({ failuresPerAddress: 100 });
      tryLogin(sut, '10.0.0.1', 'alice');
      tryLogin(sut, '10.0.0.1', 'alice');
      sut.succeeded(sut.admit('10.0.0.9', 'alice'));
      expect(tryLogin(sut, '10.0.0.1', 'alice')).toBe('admitted');
      expect(tryLogin(sut, '10.0.0.1', 'alice')).toBe('admitted');
    });

    it('never refuses an address that logged in to the username before', () => {
      const { sut } = throttle({ failuresPerAddress: 100 });
      sut.succeeded(sut.admit('10.0.0.9', 'alice'));
      for (let i = 0; i < 5; i++) tryLogin(sut, '10.6.6.6', 'alice');
      expect(tryLogin(sut, '10.6.6.7', 'alice')).toContain('for this username');
      expect(tryLogin(sut, '10.0.0.9', 'alice')).toBe('admitted');
    });

    it('throttles each username on its own', () => {
      const { sut } = throttle({ failuresPerAddress: 100 });
      for (let i = 0; i < 3; i++) tryLogin(sut, '10.0.0.1', 'alice');
      expect(tryLogin(sut, '10.0.0.1', 'alice')).toContain('for this username');
      expect(tryLogin(sut, '10.0.0.1', 'bob')).toBe('admitted');
    });
  });

  it('counts an admitted attempt as failed at once, so concurrent attempts cannot all pass', () => {
    const { sut } = throttle({ failuresPerUsername: 100 });
    const outcomes = Array.from({ length: 10 }, () => tryLogin(sut, '10.0.0.1', 'alice'));
    expect(outcomes.filter((o) => o === 'admitted')).toHaveLength(3);
  });
});

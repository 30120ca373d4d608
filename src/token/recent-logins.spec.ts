import { RecentLogins } from './recent-logins';

describe(RecentLogins.name, () => {
  const clock = { now: 1_000 };
  const sut = () => new RecentLogins(1_000, () => clock.now);

  beforeEach(() => {
    clock.now = 1_000;
  });

  it('counts a login as a repeat within the window after a success, from the same address and username only', () => {
    const recent = sut();
    recent.succeeded('192.0.2.1', 'alice');
    clock.now += 999;
    expect(recent.isRepeat('192.0.2.1', 'alice')).toBe(true);
    expect(recent.isRepeat('192.0.2.2', 'alice')).toBe(false);
    expect(recent.isRepeat('192.0.2.1', 'bob')).toBe(false);
    clock.now += 1;
    expect(recent.isRepeat('192.0.2.1', 'alice')).toBe(false);
  });

  it('forgets every success of an address when a login from it fails', () => {
    const recent = sut();
    recent.succeeded('192.0.2.1', 'alice');
    recent.succeeded('192.0.2.1', 'bob');
    recent.succeeded('192.0.2.9', 'alice');
    recent.failed('192.0.2.1');
    expect(recent.isRepeat('192.0.2.1', 'alice')).toBe(false);
    expect(recent.isRepeat('192.0.2.1', 'bob')).toBe(false);
    expect(recent.isRepeat('192.0.2.9', 'alice')).toBe(true);
  });

  it('counts addresses of one IPv6 /64 as one, as the throttle does', () => {
    const recent = sut();
    recent.succeeded('2001:db8:1:2::1', 'alice');
    recent.failed('2001:db8:1:2::ffff');
    expect(recent.isRepeat('2001:db8:1:2::1', 'alice')).toBe(false);
  });

  it('never counts a repeat with a window of 0 (the credential cache off)', () => {
    const recent = new RecentLogins(0, () => clock.now);
    recent.succeeded('192.0.2.1', 'alice');
    expect(recent.isRepeat('192.0.2.1', 'alice')).toBe(false);
  });
});

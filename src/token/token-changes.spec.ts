import { ECHO_SETTLE_MS, TokenChanges } from './token-changes';

describe(TokenChanges.name, () => {
  let sut: TokenChanges;

  beforeEach(() => {
    jest.useFakeTimers();
    sut = new TokenChanges();
    sut.setHearing(true);
  });

  afterEach(() => jest.useRealTimers());

  /** Whether the promise has settled, after letting pending callbacks run. */
  async function settled(promise: Promise<void>): Promise<boolean> {
    let done = false;
    void promise.then(() => (done = true));
    await Promise.resolve();
    await Promise.resolve();
    return done;
  }

  it('answers a change ECHO_SETTLE_MS after its echo, not at once, so the other instances have read it too', async () => {
    const echo = sut.echoed(7, 1_000);
    sut.changed(7);
    expect(await settled(echo)).toBe(false);
    jest.advanceTimersByTime(ECHO_SETTLE_MS - 1);
    expect(await settled(echo)).toBe(false);
    jest.advanceTimersByTime(1);
    expect(await settled(echo)).toBe(true);
  });

  it("waits for its own token's echo only, and gives up at the timeout when none comes", async () => {
    const echo = sut.echoed(7, 200);
    sut.changed(8);
    jest.advanceTimersByTime(199);
    expect(await settled(echo)).toBe(false);
    jest.advanceTimersByTime(1);
    expect(await settled(echo)).toBe(true);
  });

  it('does not wait at all while it is not listening', async () => {
    sut.setHearing(false);
    expect(await settled(sut.echoed(7, 1_000))).toBe(true);
  });

  it('tells every subscriber of each announced change', () => {
    const heard: unknown[] = [];
    sut.subscribe((change) => heard.push(change));
    sut.changed(3);
    sut.missed();
    expect(heard).toEqual([{ kind: 'token', tokenId: 3 }, { kind: 'unknown' }]);
  });
});

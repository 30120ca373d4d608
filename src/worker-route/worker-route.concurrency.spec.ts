import { RouteConcurrency } from './worker-route.concurrency';

describe(RouteConcurrency.name, () => {
  it('refuses past the per-route limit while other routes still get places, and past the total for every route', () => {
    const sut = new RouteConcurrency(3, 2);
    const a1 = sut.tryAcquire('a');
    const a2 = sut.tryAcquire('a');
    expect([a1, a2].every((release) => release !== undefined)).toBe(true);
    expect(sut.tryAcquire('a')).toBeUndefined();
    const b1 = sut.tryAcquire('b');
    expect(b1).toBeDefined();
    expect(sut.tryAcquire('c')).toBeUndefined();
    expect([sut.running, sut.runningOf('a'), sut.runningOf('b')]).toEqual([3, 2, 1]);
  });

  it('gives a place back once however often it is released, and forgets routes with nothing running', () => {
    const sut = new RouteConcurrency(1, 1);
    const release = sut.tryAcquire('a')!;
    release();
    release();
    expect([sut.running, sut.runningOf('a')]).toEqual([0, 0]);
    expect(sut.tryAcquire('b')).toBeDefined();
    expect(sut.tryAcquire('a')).toBeUndefined();
  });
});

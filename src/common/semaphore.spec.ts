import { deferred, tick } from '../../test/support/deferred';
import { Semaphore } from './semaphore';

describe('Semaphore', () => {
  it('runs at most `slots` works at once and starts the waiters in arrival order', async () => {
    const semaphore = new Semaphore(2);
    const gates = [deferred(), deferred(), deferred(), deferred()];
    const started: number[] = [];
    const runs = gates.map((gate, i) => semaphore.run(async () => (started.push(i), gate.promise)));
    await tick();
    expect(started).toEqual([0, 1]);
    gates[1].resolve();
    await tick();
    expect(started).toEqual([0, 1, 2]);
    gates[0].resolve();
    await tick();
    expect(started).toEqual([0, 1, 2, 3]);
    gates[2].resolve();
    gates[3].resolve();
    await Promise.all(runs);
  });

  it('gives the slot back when the work fails, and passes the failure on', async () => {
    const semaphore = new Semaphore(1);
    await expect(semaphore.run(async () => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    await expect(semaphore.run(async () => 'next')).resolves.toBe('next');
  });

  it('admits by weight, in arrival order: a heavy waiter is not passed by lighter later ones', async () => {
    const sut = new Semaphore(10);
    const gates = [deferred(), deferred(), deferred(), deferred()];
    const started: number[] = [];
    const weights = [6, 6, 1, 30];
    const runs = gates.map((gate, i) => sut.run(async () => (started.push(i), gate.promise), weights[i]));
    await tick();
    expect(started).toEqual([0]);
    gates[0].resolve();
    await tick();
    // 6 and 1 fit together; 30 is more than the capacity and takes all of it, alone.
    expect(started).toEqual([0, 1, 2]);
    gates[1].resolve();
    await tick();
    expect(started).toEqual([0, 1, 2]);
    gates[2].resolve();
    await tick();
    expect(started).toEqual([0, 1, 2, 3]);
    gates[3].resolve();
    await Promise.all(runs);
  });

  it('refuses a capacity that is not a positive integer', () => {
    expect(() => new Semaphore(0)).toThrow(RangeError);
    expect(() => new Semaphore(1.5)).toThrow(RangeError);
  });
});

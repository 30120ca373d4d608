import { deferred, tick } from '../../test/support/deferred';
import { DomainErrorCode } from '../common/domain.error';
import { PasswordCheckGate } from './password-check-gate';


describe(PasswordCheckGate.name, () => {
  it('runs at most `concurrency` checks at once, queues `maxQueued` more and refuses the rest', async () => {
    const sut = new PasswordCheckGate(2, 1);
    const gates = [deferred(), deferred(), deferred()];
    const started: number[] = [];
    const runs = gates.map((gate, i) => sut.run(async () => (started.push(i), gate.promise)));
    await expect(sut.run(async () => 'refused?')).rejects.toMatchObject({
      code: DomainErrorCode.TooManyLogins,
      message: 'too many password checks in progress, retry in 1 s',
    });
    await tick();
    expect(started).toEqual([0, 1]);
    gates[0].resolve();
    await tick();
    expect(started).toEqual([0, 1, 2]);
    gates[1].resolve();
    gates[2].resolve();
    await Promise.all(runs);
    await expect(sut.run(async () => 'room again')).resolves.toBe('room again');
    expect(sut.stats).toEqual({ peakRunning: 2, completed: 4 });
  });

  it('queues internal callers past the bound rather than refusing them', async () => {
    const sut = new PasswordCheckGate(1, 0);
    const held = deferred();
    const first = sut.run(() => held.promise);
    const internal = sut.run(async () => 'delivered', true);
    held.resolve();
    await first;
    await expect(internal).resolves.toBe('delivered');
  });
});

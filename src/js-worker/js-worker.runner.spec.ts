import type { AppConfig } from '../config/app.config';
import { DomainError } from '../common/domain.error';
import { JsWorkerRunner } from './js-worker.runner';

const ENDLESS_TOP_LEVEL = 'while (true) {}\nexport default { onCall() {} }';

function configWith(poolSize: number): AppConfig {
  return { jsWorkerPoolSize: poolSize, jsWorkerMaxQueue: 10 } as AppConfig;
}

describe(JsWorkerRunner.name, () => {
  describe('validate', () => {
    let sut: JsWorkerRunner;

    beforeAll(() => {
      sut = new JsWorkerRunner(configWith(1));
    });

    afterAll(async () => {
      await sut.close();
    });

    it('keeps this event loop turning while a script loops at its top level', async () => {
      await sut.validate('export default { onCall() {} }');
      let ticks = 0;
      let done = false;
      const tick = (): void => {
        if (done) return;
        ticks++;
        setImmediate(tick);
      };
      setImmediate(tick);

      const verdict = await sut.validate(ENDLESS_TOP_LEVEL).finally(() => (done = true));

      expect(verdict).toEqual({ ok: false, message: 'max_run_time exceeded: script ran longer than 1000 ms' });
      // Validating on this thread (as it once did) blocks it for the whole second: no turn at all.
      expect(ticks).toBeGreaterThan(100);
    });

    it('refuses with 108 once 64 scripts are waiting, and nothing more is queued', async () => {
      const waiting = Array.from({ length: 65 }, () => sut.validate(ENDLESS_TOP_LEVEL).catch((error: unknown) => error));

      const refused = await sut.validate(ENDLESS_TOP_LEVEL).catch((error: unknown) => error);

      expect(refused).toBeInstanceOf(DomainError);
      expect((refused as DomainError).message).toBe('the validation queue is full (64 waiting); try again later');
      await sut.close();
      const outcomes = await Promise.all(waiting);
      expect(outcomes.every((outcome) => outcome instanceof DomainError && outcome.message === 'the server is shutting down; try again later')).toBe(true);
    });
  });
});

import { DomainError, DomainErrorCode } from '../common/domain.error';
import { CronSchedule } from './cron-schedule';

const at = (iso: string) => Date.parse(iso);

describe(CronSchedule.name, () => {
  it('reads six fields, seconds first, in UTC', () => {
    const sut = CronSchedule.parse('0 30 2 * * *');
    expect(sut.nextAfter(at('2026-01-25T02:29:59.500Z'))).toBe(at('2026-01-25T02:30:00Z'));
    expect(sut.nextAfter(at('2026-01-25T02:30:00Z'))).toBe(at('2026-01-26T02:30:00Z'));
  });

  it('reads month and weekday names, Quartz weekday numbers (1 = Sunday) and the year field, as NodeGet does', () => {
    expect(CronSchedule.parse('0 0 12 * JAN-MAR MON-FRI').nextAfter(at('2026-12-04T00:00:00Z'))).toBe(at('2027-01-01T12:00:00Z'));
    expect(CronSchedule.parse('0 0 0 * * 1').nextAfter(at('2026-12-04T00:00:00Z'))).toBe(at('2026-12-06T00:00:00Z'));
    expect(CronSchedule.parse('0 0 0 1 1 * 2030').nextAfter(at('2026-12-04T00:00:00Z'))).toBe(at('2030-01-01T00:00:00Z'));
    expect(CronSchedule.parse('0 0 0 1 1 * 2020').nextAfter(at('2026-12-04T00:00:00Z'))).toBeUndefined();
  });

  it('needs a day-of-month and a day-of-week both given to match together', () => {
    // The 13th that is a Friday (Quartz 6), not every 13th and every Friday.
    expect(CronSchedule.parse('0 0 0 13 * 6').nextAfter(at('2026-01-01T00:00:00Z'))).toBe(at('2026-02-13T00:00:00Z'));
  });

  it.each(['* * * * *', '60 * * * * *', '0 0 0 1 13 *', 'every day', ''])('refuses %j with 101 naming why', (expression) => {
    let error: unknown;
    try {
      CronSchedule.parse(expression);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(DomainError);
    expect((error as DomainError).code).toBe(DomainErrorCode.InvalidCronExpression);
    expect((error as DomainError).message).toMatch(/^Invalid cron expression: ./);
  });

  describe('latestDue (what a job fires when it wakes at `now`)', () => {
    const sut = CronSchedule.parse('*/5 * * * * *');
    const last = at('2026-01-01T00:00:00Z');

    it('is nothing before the first due time after the last firing', () => {
      expect(sut.latestDue(last, last + 4_999)).toBeUndefined();
    });

    it('is the due time itself when woken on time or late within the period', () => {
      expect(sut.latestDue(last, last + 5_000)).toBe(last + 5_000);
      expect(sut.latestDue(last, last + 9_999)).toBe(last + 5_000);
    });

    it('collapses every missed due time into the latest one', () => {
      expect(sut.latestDue(last, last + 3_600_000 + 2_000)).toBe(last + 3_600_000);
    });

    it('never returns the last firing again', () => {
      expect(sut.latestDue(last + 5_000, last + 5_000)).toBeUndefined();
    });
  });
});

import { Cron } from 'croner';
import { DomainError, DomainErrorCode } from '../common/domain.error';

/**
 * How NodeGet's `cron` crate reads an expression, in croner's terms: six
 * fields with seconds first and an optional year; weekdays numbered as in
 * Quartz (1 = Sunday … 7 = Saturday, names too); a day-of-month and a
 * day-of-week both given must both match; UTC. `paused`: croner only computes
 * times here, it never runs anything.
 */
const OPTIONS = {
  mode: '6-or-7-parts',
  // UTC as a fixed offset: croner's `timezone: 'UTC'` goes through Intl for every date, ten times slower.
  utcOffset: 0,
  alternativeWeekdays: true,
  domAndDow: true,
  paused: true,
} as const;

/** Longest expression accepted: far above any real one, so a hostile one costs the parser nothing. */
const MAX_EXPRESSION_LENGTH = 1_000;

/** A parsed expression and the due times it gives (ms, at whole seconds). */
export class CronSchedule {
  /** The last nextAfter asked and its answer: a firing asks the same one twice (is it the latest? then: what comes next). */
  private memo = { after: NaN, next: undefined as number | undefined };

  private constructor(private readonly cron: Cron) {}

  /** Parses, or throws 101 `Invalid cron expression: <why>` as NodeGet does. */
  static parse(expression: string): CronSchedule {
    if (expression.length > MAX_EXPRESSION_LENGTH) throw invalidExpression(`longer than ${MAX_EXPRESSION_LENGTH} characters`);
    try {
      return new CronSchedule(new Cron(expression, OPTIONS));
    } catch (error) {
      throw invalidExpression(error instanceof Error ? error.message.replace(/^CronPattern: /, '') : String(error));
    }
  }

  /** The first due time strictly after `ms`, or undefined when there is none (a past year). */
  nextAfter(ms: number): number | undefined {
    if (ms !== this.memo.after) this.memo = { after: ms, next: this.cron.nextRun(new Date(ms))?.getTime() };
    return this.memo.next;
  }

  /**
   * The latest due time in (after, now], or undefined: what a job fires when
   * it wakes. Times missed before it collapse into this one.
   */
  latestDue(after: number, now: number): number | undefined {
    const first = this.nextAfter(after);
    if (first === undefined || first > now) return undefined;
    // Woken on time, the usual case: the first due time is the latest.
    const second = this.nextAfter(first);
    if (second === undefined || second > now) return first;
    // previousRuns is strictly before its (whole-second) reference: one second on, it can return `now` itself.
    const [latest] = this.cron.previousRuns(1, new Date(now + 1_000));
    const due = latest?.getTime();
    return due !== undefined && due > after && due <= now ? due : first;
  }
}

function invalidExpression(why: string): DomainError {
  return new DomainError(DomainErrorCode.InvalidCronExpression, `Invalid cron expression: ${why}`);
}

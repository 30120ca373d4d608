import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '../config/app.config';
import { PgChannelListener } from '../database/pg-channel.listener';
import { ShutdownState } from '../health/shutdown.state';
import { JsWorkerService } from '../js-worker/js-worker.service';
import { CronSchedule } from './cron-schedule';
import { type ClaimedFiring, CrontabFirings, type DueFiring } from './crontab.firings';
import { CrontabRepository, type ScheduledRow } from './crontab.repository';

/** The channel the crontab table's triggers announce changes on (migration CreateCrontab). */
export const CRONTAB_CHANGED_CHANNEL = 'jsr_crontab_changed';

/** Every job is read again this often, in case an announcement was missed; announcements are the usual path. */
const RESCAN_MS = 60_000;
/** The longest a timer is set for, so that a clock change is noticed within it. */
const MAX_SLEEP_MS = 30_000;
/** Due times claimed per statement. */
const BATCH = 500;
/** A due time another instance was claiming at the same moment is looked at again after this. */
const RECHECK_MS = 50;
/** After a failed firing statement (the database away), the due jobs are tried again after this. */
const RETRY_MS = 1_000;

interface Job {
  row: ScheduledRow;
  schedule: CronSchedule;
  /** The time after which the next due time is looked for. */
  after: number;
  /** The next due time (ms), or undefined when the expression has no more. */
  next?: number;
}

/**
 * Fires every enabled job at its due times, exactly once across instances.
 *
 * Each instance holds every enabled job with its next due time and sleeps
 * until the nearest one (one timer, not a poll of every job). When woken it
 * claims the due times in the database (CrontabFirings: a compare-and-set per
 * job, with the js_result row and the firing record in the same statement);
 * whichever instance's claim lands first fires, the others find the row moved
 * on and read it again. Changes made anywhere reach it through the database's
 * notifications on PostgreSQL (a trigger on crontab) and directly from this
 * process's own calls (`changed`); a slow re-scan covers a lost announcement.
 * A job missed while no instance ran fires once for the latest missed time.
 * Runs are handed to the worker pool and never awaited here, so a slow or
 * hanging run delays no other firing.
 */
@Injectable()
export class CrontabScheduler implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger(CrontabScheduler.name);
  private readonly jobs = new Map<number, Job>();
  private listener?: PgChannelListener;
  private timer?: NodeJS.Timeout;
  private rescanTimer?: NodeJS.Timeout;
  private ticking?: Promise<void>;
  private pendingIds = new Set<number>();
  private reloading?: Promise<void>;
  private stopped = false;

  constructor(
    private readonly repository: CrontabRepository,
    private readonly firings: CrontabFirings,
    private readonly workers: JsWorkerService,
    private readonly shutdown: ShutdownState,
    @Inject(APP_CONFIG) private readonly config: Pick<AppConfig, 'database'>,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    if (this.config.database.kind === 'postgres') {
      this.listener = new PgChannelListener(
        this.config.database.url,
        CRONTAB_CHANGED_CHANNEL,
        'js-result-service crontab listener',
        {
          heard: (payload) => this.heard(payload),
          listening: (reconnected) => {
            if (reconnected) void this.rescan();
          },
        },
        this.logger,
      );
      await this.listener.start();
    }
    await this.rescan();
    this.rescanTimer = setInterval(() => void this.rescan(), RESCAN_MS).unref();
  }

  async onModuleDestroy(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    clearInterval(this.rescanTimer);
    await this.listener?.stop();
    await this.ticking;
  }

  /** A job changed (by this process, or announced by the database): read it again before its next due time. */
  changed(id: number): Promise<void> {
    this.pendingIds.add(id);
    this.reloading ??= Promise.resolve().then(async () => {
      const ids = [...this.pendingIds];
      this.pendingIds.clear();
      this.reloading = undefined;
      await this.reload(ids);
    });
    return this.reloading;
  }

  /**
   * Whether announcements of job changes can arrive: on PostgreSQL, the LISTEN connection is up (without it another
   * instance's edit would wait for the slow re-scan); the embedded database has no other instance to hear.
   */
  get listening(): boolean {
    return this.config.database.kind !== 'postgres' || this.listener?.listening === true;
  }

  /** How many enabled jobs this instance holds (for tests and metrics). */
  get size(): number {
    return this.jobs.size;
  }

  private heard(payload: string | undefined): void {
    const id = Number(payload);
    if (payload !== undefined && payload !== '' && Number.isSafeInteger(id)) void this.changed(id);
    else void this.rescan();
  }

  private async rescan(): Promise<void> {
    try {
      const rows = await this.repository.scheduled();
      const seen = new Set<number>();
      for (const row of rows) {
        seen.add(row.id);
        this.put(row);
      }
      for (const id of [...this.jobs.keys()]) if (!seen.has(id)) this.jobs.delete(id);
    } catch (error) {
      this.logger.warn({ err: error }, 'could not read the scheduled jobs; trying again later');
    }
    this.arm();
  }

  private async reload(ids: number[]): Promise<void> {
    try {
      const rows = await this.repository.scheduled(ids);
      const found = new Set(rows.map((row) => row.id));
      for (const id of ids) if (!found.has(id)) this.jobs.delete(id);
      for (const row of rows) this.put(row);
    } catch (error) {
      this.logger.warn({ err: error, ids }, 'could not read changed jobs; the next re-scan will');
    }
    this.arm();
  }

  /** Holds the job as stored now (or drops it when disabled or its expression does not parse). */
  private put(row: ScheduledRow): void {
    if (!row.enable) {
      this.jobs.delete(row.id);
      return;
    }
    const held = this.jobs.get(row.id);
    if (held && sameState(held.row, row)) return;
    let schedule: CronSchedule;
    try {
      schedule = held?.row.cronExpression === row.cronExpression ? held.schedule : CronSchedule.parse(row.cronExpression);
    } catch (error) {
      this.logger.warn({ job: row.name, expression: row.cronExpression }, `job not scheduled: ${(error as Error).message}`);
      this.jobs.delete(row.id);
      return;
    }
    // Never run and with no start (an imported job): from now, as NodeGet does.
    const after = Math.max(row.lastRunTime ?? -Infinity, row.scheduleFrom ?? -Infinity);
    const job: Job = { row, schedule, after: Number.isFinite(after) ? after : Date.now() };
    job.next = schedule.nextAfter(job.after);
    this.jobs.set(row.id, job);
  }

  /** Sets the one timer for the nearest due time. */
  private arm(): void {
    if (this.stopped || this.ticking) return;
    let nearest = Infinity;
    for (const job of this.jobs.values()) if (job.next !== undefined && job.next < nearest) nearest = job.next;
    clearTimeout(this.timer);
    const delay = Math.min(Math.max(0, nearest - Date.now()), MAX_SLEEP_MS);
    this.timer = setTimeout(() => this.wake(), delay).unref();
  }

  private wake(): void {
    // A server shutting down claims nothing more: its pool refuses runs, and another instance fires in its place.
    if (this.stopped || this.ticking || this.shutdown.shuttingDown) return;
    this.ticking = this.fireDue().finally(() => {
      this.ticking = undefined;
      this.arm();
    });
  }

  private async fireDue(): Promise<void> {
    const now = Date.now();
    const due: DueFiring[] = [];
    for (const job of this.jobs.values()) {
      if (job.next === undefined || job.next > now) continue;
      // `next` may have been put off (postpone); the due time itself always comes from the schedule.
      const at = job.schedule.latestDue(job.after, now);
      if (at === undefined) job.next = job.schedule.nextAfter(job.after);
      else due.push({ id: job.row.id, due: at, seenRun: job.row.lastRunTime, seenFrom: job.row.scheduleFrom });
    }
    for (let i = 0; i < due.length; i += BATCH) await this.fireBatch(due.slice(i, i + BATCH), now);
  }

  private async fireBatch(batch: DueFiring[], now: number): Promise<void> {
    const tickets = batch.map((firing) => {
      try {
        return this.workers.admitRun();
      } catch (error) {
        firing.refusal = (error as Error).message;
        return undefined;
      }
    });
    if (this.shutdown.shuttingDown) {
      tickets.forEach((ticket) => ticket && this.workers.cancelRun(ticket));
      return;
    }
    let claimed: ClaimedFiring[];
    try {
      const ownerId = await this.workers.runOwnerId();
      claimed = await this.firings.fire(batch, now, ownerId);
    } catch (error) {
      tickets.forEach((ticket) => ticket && this.workers.cancelRun(ticket));
      this.logger.warn({ err: error, jobs: batch.length }, `could not fire due jobs; trying again in ${RETRY_MS} ms`);
      this.postpone(batch, Date.now() + RETRY_MS);
      return;
    }
    const byId = new Map(claimed.map((firing) => [firing.id, firing]));
    batch.forEach((firing, i) => {
      const ticket = tickets[i];
      const mine = byId.get(firing.id);
      if (ticket && mine?.runId != null && mine.worker) this.workers.startRecorded(ticket, mine.runId, mine.worker, mine.params);
      else if (ticket) this.workers.cancelRun(ticket);
      if (mine) this.advance(firing.id, mine.due);
    });
    // Claimed by another instance, changed meanwhile, or being claimed right now (skipped as locked): read again.
    const lost = batch.filter((firing) => !byId.has(firing.id));
    if (lost.length > 0) {
      await this.reload(lost.map((firing) => firing.id));
      this.postpone(lost, Date.now() + RECHECK_MS);
    }
  }

  /** This instance fired `due`: the job's next due time is the first after it. */
  private advance(id: number, due: number): void {
    const job = this.jobs.get(id);
    if (!job) return;
    job.row = { ...job.row, lastRunTime: due };
    job.after = Math.max(job.after, due);
    job.next = job.schedule.nextAfter(job.after);
  }

  /** Jobs whose due time is still due are looked at again no sooner than `at`. */
  private postpone(batch: readonly DueFiring[], at: number): void {
    for (const firing of batch) {
      const job = this.jobs.get(firing.id);
      if (job?.next !== undefined && job.next < at) job.next = at;
    }
  }
}

function sameState(a: ScheduledRow, b: ScheduledRow): boolean {
  return (
    a.cronExpression === b.cronExpression &&
    a.lastRunTime === b.lastRunTime &&
    a.scheduleFrom === b.scheduleFrom &&
    a.name === b.name
  );
}

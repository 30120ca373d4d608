import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '../config/app.config';
import { Database, type StatementRunner } from '../database/database';
import { JsResultRepository } from '../js-result/js-result.repository';
import { isBefore, MIN_ID, type RowKey } from '../js-result/row-key';
import { MetricsService } from '../metrics/metrics.service';
import { parseWorkerPattern } from '../token/worker-pattern';
import { type PolicyRow, RetentionPolicyRepository } from './retention-policy.repository';
import { RECORD_SWEEP, RUN_OUTCOME, type SweepRule, tallyStep } from './retention.statements';

const DAY_MS = 86_400_000;

/**
 * Rows per DELETE. Each batch is its own short statement (its own
 * transaction), so readers and writers wait at most one batch, never a sweep.
 */
export const SWEEP_BATCH = 1_000;

/** Session advisory lock key: one instance sweeps at a time (see MIGRATION_LOCK for the other key). */
const SWEEP_LOCK = 727_201_146;

export interface SweepOptions {
  /** The time `keep_days` counts back from (ms); by default the clock's. */
  now?: number;
  batchSize?: number;
}

/**
 * Deletes the results the retention policies expire, every
 * RETENTION_SWEEP_INTERVAL_MS. Which rows expire is decided once, at the start
 * of a sweep, as a key per policy and worker (rows after it in the worker's
 * newest-first order go): so the outcome does not depend on the order the
 * policies are applied in, and a sweep ends with nothing left expired.
 */
@Injectable()
export class RetentionSweeper implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger(RetentionSweeper.name);
  private timer?: NodeJS.Timeout;
  /** The sweep in progress in this process, or the last one; sweeps here run one after another. */
  private tail: Promise<unknown> = Promise.resolve();
  private stopping = false;
  /** A timer sweep still running when the next tick comes: the tick is skipped rather than queued. */
  private ticking = false;

  constructor(
    private readonly database: Database,
    private readonly results: JsResultRepository,
    private readonly policies: RetentionPolicyRepository,
    @Inject(APP_CONFIG) private readonly config: Pick<AppConfig, 'retentionSweepIntervalMs' | 'database'>,
    private readonly metrics: MetricsService,
  ) {}

  onApplicationBootstrap(): void {
    this.timer = setInterval(() => void this.tick(), this.config.retentionSweepIntervalMs).unref();
  }

  /** Lets a batch in progress finish (its count is recorded), then stops. */
  async onModuleDestroy(): Promise<void> {
    this.stopping = true;
    clearInterval(this.timer);
    await this.tail.catch(() => undefined);
  }

  /**
   * One whole sweep, after any sweep already running in this process. Answers
   * how many rows it deleted: 0 also when another instance holds the sweep.
   * `now` decides what `keep_days` expires; tests shrink `batchSize` to see
   * many batches on a small table.
   */
  sweepOnce({ now = Date.now(), batchSize = SWEEP_BATCH }: SweepOptions = {}): Promise<number> {
    const sweep = this.tail.catch(() => undefined).then(() => this.sweep(now, batchSize));
    this.tail = sweep;
    return sweep;
  }

  private async tick(): Promise<void> {
    if (this.ticking) return;
    this.ticking = true;
    try {
      const deleted = await this.sweepOnce();
      if (deleted > 0) this.logger.log(`retention deleted ${deleted} expired results`);
    } catch (err) {
      // The database may be away; the next interval tries again, and a cut-short sweep's count is recorded then.
      this.logger.warn(`retention sweep failed: ${err instanceof Error ? err.message : String(err)}`);
    } finally {
      this.ticking = false;
    }
  }

  private async sweep(now: number, batchSize: number): Promise<number> {
    if (this.stopping) return 0;
    return this.withSweepLock(async (run) => {
      // A sweep cut short (a crash, the database gone) left its count: it is recorded as its own entry first.
      await run.rows(RECORD_SWEEP);
      const rules = await this.rules(run, await this.policies.all(run), now);
      let deleted = 0;
      for (const rule of rules) {
        if (this.stopping) break;
        deleted += await this.apply(run, rule, batchSize);
      }
      await run.rows(RECORD_SWEEP);
      return deleted;
    });
  }

  /** Deletes a rule's rows a batch at a time; stops early when the app is shutting down. */
  private async apply(run: StatementRunner, rule: SweepRule, batchSize: number): Promise<number> {
    let deleted = 0;
    let after = rule.after;
    for (;;) {
      const expired = { worker: rule.worker, outcome: RUN_OUTCOME[rule.outcome], after };
      const batch = await this.results.deleteExpired(expired, batchSize, tallyStep(rule.policyId), run);
      deleted += batch.deleted;
      // Per batch, so that a sweep cut short still counts what it deleted.
      this.metrics.recordRetentionDeleted(batch.deleted);
      if (batch.chosen < batchSize || this.stopping) return deleted;
      after = { startTime: batch.start_time, id: batch.id! };
    }
  }

  /** Every policy's key for every worker it matches, as the table stands now. */
  private async rules(run: StatementRunner, policies: PolicyRow[], now: number): Promise<SweepRule[]> {
    const rules: SweepRule[] = [];
    for (const policy of policies) {
      for (const worker of await this.workersOf(run, policy.js_worker)) {
        const after = await this.expiryKey(run, policy, worker, now);
        if (after !== undefined) rules.push({ policyId: Number(policy.id), worker, outcome: policy.outcome, after });
      }
    }
    return rules;
  }

  private async workersOf(run: StatementRunner, pattern: string): Promise<string[]> {
    const parsed = parseWorkerPattern(pattern);
    if (parsed.kind === 'exact') return [parsed.name];
    return this.results.workerNamesUnder([parsed.prefix], run);
  }

  /**
   * Where a policy's expired rows of a worker begin. `keep_days` and
   * `keep_last` each expire a tail of the same order, so together they expire
   * the longer tail: the one after the earlier key.
   */
  private async expiryKey(run: StatementRunner, policy: PolicyRow, worker: string, now: number): Promise<RowKey | undefined> {
    const keys: RowKey[] = [];
    // Older than keep_days: start_time < now - days, and no id is below MIN_ID, so a tie with the cut-off stays.
    if (policy.keep_days !== null) keys.push({ startTime: String(now - Number(policy.keep_days) * DAY_MS), id: MIN_ID });
    if (policy.keep_last !== null) {
      const nth = await this.results.nthNewest(worker, RUN_OUTCOME[policy.outcome], Number(policy.keep_last), run);
      if (nth !== undefined) keys.push(nth);
    }
    return keys.reduce<RowKey | undefined>((earliest, key) => (earliest === undefined || isBefore(key, earliest) ? key : earliest), undefined);
  }

  /**
   * Runs `sweep` holding the sweep lock, or answers 0 when another instance
   * holds it. On a server the lock is a session advisory lock on one pooled
   * connection, which also runs the sweep's statements (one connection, each
   * statement its own transaction). The embedded database belongs to this
   * process alone, and its single session must stay free between batches for
   * readers, so there the in-process queue is the lock.
   */
  private async withSweepLock(sweep: (run: StatementRunner) => Promise<number>): Promise<number> {
    if (this.config.database.kind === 'embedded') return sweep(this.database);
    return this.database.session(async (session) => {
      const locked = await session.first<{ locked: boolean }>({ text: 'SELECT pg_try_advisory_lock($1) AS locked', values: [SWEEP_LOCK] });
      if (locked?.locked !== true) return 0;
      try {
        return await sweep(session);
      } finally {
        // Only a dead connection fails this, and a dead connection's session (and lock) is gone with it.
        await session.rows({ text: 'SELECT pg_advisory_unlock($1)', values: [SWEEP_LOCK] }).catch(() => undefined);
      }
    });
  }
}

import { Injectable } from '@nestjs/common';
import { HealthIndicatorService } from '@nestjs/terminus';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';
import { CrontabScheduler } from '../crontab/crontab.scheduler';
import { JSR_DATA_SOURCE } from '../database/data-source.name';
import { ResultFinishedListener } from '../result-events/result-finished.listener';
import { TokenChangesListener } from '../token/token-changes.listener';
import { ShutdownState } from './shutdown.state';

/** How long the migrations query may take before the instance counts as not ready. */
const CHECK_TIMEOUT_MS = 2_000;

/**
 * What readiness needs beyond a reachable database: the schema this code
 * expects, the LISTEN connections that token changes, finished results and
 * crontab changes arrive on, and not shutting down. Messages name the cause, never a host or SQL.
 */
@Injectable()
export class ReadinessIndicator {
  constructor(
    private readonly indicators: HealthIndicatorService,
    // The DataSource itself: readiness compares the applied migrations with the ones it was built with.
    @InjectDataSource(JSR_DATA_SOURCE) private readonly dataSource: DataSource,
    private readonly tokenChanges: TokenChangesListener,
    private readonly resultsFinished: ResultFinishedListener,
    private readonly crontab: CrontabScheduler,
    private readonly shutdown: ShutdownState,
  ) {}

  /**
   * Every migration this code knows is recorded as applied. Read from the
   * table rather than with TypeORM's showMigrations, which would create the table.
   */
  migrations() {
    return this.indicators
      .check('migrations')
      .attempt(async () => {
        const rows: { name: string }[] = await this.dataSource.query('SELECT name FROM migrations');
        const applied = new Set(rows.map((row) => row.name));
        const pending = this.dataSource.migrations.filter((migration) => !applied.has(migration.name as string)).length;
        if (pending > 0) throw new Error(`${pending} migration(s) pending`);
        return { applied: applied.size };
      })
      .withTimeout(CHECK_TIMEOUT_MS);
  }

  listeners() {
    const check = this.indicators.check('listeners');
    const state = {
      tokenChanges: this.tokenChanges.listening,
      resultsFinished: this.resultsFinished.listening,
      crontabChanges: this.crontab.listening,
    };
    return Object.values(state).every(Boolean) ? check.up(state) : check.down(state);
  }

  accepting() {
    const check = this.indicators.check('shutdown');
    return this.shutdown.shuttingDown ? check.down({ message: 'shutting down' }) : check.up();
  }
}

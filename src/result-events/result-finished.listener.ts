import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { APP_CONFIG, type AppConfig } from '../config/app.config';
import { JSR_DATA_SOURCE } from '../database/data-source.name';
import { PgChannelListener } from '../database/pg-channel.listener';
import { PgliteClient } from '../database/pglite.pool';

/** The channel js_result's triggers announce finished rows on (migration NotifyResultFinished). */
export const RESULT_FINISHED_CHANNEL = 'jsr_result_finished';

const ID_LIST = /^-?\d+(,-?\d+)*$/;

/** Who is told of finished rows. */
export interface FinishedObserver {
  /** Ids (decimal text, exact for 64-bit) of rows that finished, in finish order. */
  finished(ids: readonly string[]): void;
  /** Announcements may have been lost (the LISTEN connection was down): whatever waits must look again. */
  missed(): void;
}

/**
 * Hears every js_result row that finishes, wherever it was finished: on
 * PostgreSQL through one dedicated LISTEN connection per process
 * (PgChannelListener: it reconnects with backoff, and `missed` is reported on
 * every reconnect, since announcements made while it was down are gone); on the
 * embedded database through PGlite's own listen, as the same trigger fires there.
 * With nobody observing, an announcement costs a split of its text and nothing else.
 */
@Injectable()
export class ResultFinishedListener implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger(ResultFinishedListener.name);
  private readonly observers = new Set<FinishedObserver>();
  private listener?: PgChannelListener;
  private unlistenEmbedded?: () => Promise<void>;
  private stopped = false;

  constructor(
    // A raw DataSource: the embedded database's LISTEN needs its own session of the pool.
    @InjectDataSource(JSR_DATA_SOURCE) private readonly dataSource: DataSource,
    @Inject(APP_CONFIG) private readonly config: Pick<AppConfig, 'database'>,
  ) {}

  subscribe(observer: FinishedObserver): () => void {
    this.observers.add(observer);
    return () => this.observers.delete(observer);
  }

  /** Listening before the server answers any call, so a waiter registered by a call cannot miss its row. */
  async onApplicationBootstrap(): Promise<void> {
    if (this.config.database.kind !== 'postgres') return this.listenEmbedded();
    this.listener = new PgChannelListener(
      this.config.database.url,
      RESULT_FINISHED_CHANNEL,
      'js-result-service result listener',
      { heard: (payload) => this.heard(payload), listening: (reconnected) => reconnected && this.emitMissed() },
      this.logger,
    );
    await this.listener.start();
  }

  /** For readiness: whether finished rows are heard now (waiters and subscribers depend on it). */
  get listening(): boolean {
    if (this.stopped) return false;
    return this.config.database.kind === 'postgres' ? this.listener?.listening === true : this.unlistenEmbedded !== undefined;
  }

  async onModuleDestroy(): Promise<void> {
    this.stopped = true;
    await this.listener?.stop();
    await this.unlistenEmbedded?.().catch(() => undefined);
  }

  private async listenEmbedded(): Promise<void> {
    const runner = this.dataSource.createQueryRunner();
    try {
      const session: unknown = await runner.connect();
      if (!(session instanceof PgliteClient)) throw new Error('the embedded database session is not a PGlite session');
      // After a restart of the database thread, announcements made while it was down are gone.
      this.unlistenEmbedded = await session.listen(RESULT_FINISHED_CHANNEL, (payload) => this.heard(payload), () => this.emitMissed());
    } finally {
      await runner.release();
    }
  }

  private heard(payload: string | undefined): void {
    if (this.stopped || this.observers.size === 0) return;
    if (payload === undefined || !ID_LIST.test(payload)) {
      this.logger.warn(`ignored a malformed ${RESULT_FINISHED_CHANNEL} announcement`);
      return;
    }
    const ids = payload.split(',');
    for (const observer of this.observers) observer.finished(ids);
  }

  private emitMissed(): void {
    for (const observer of this.observers) observer.missed();
  }
}

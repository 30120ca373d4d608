import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import { Client, type Notification } from 'pg';
import { DataSource } from 'typeorm';
import { APP_CONFIG, type AppConfig } from '../config/app.config';
import { PgliteClient } from '../database/pglite.pool';

/** The channel js_result's triggers announce finished rows on (migration NotifyResultFinished). */
export const RESULT_FINISHED_CHANNEL = 'jsr_result_finished';

const RECONNECT_DELAYS_MS = [100, 500, 1_000, 2_000, 5_000];
const CONNECT_TIMEOUT_MS = 5_000;
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
 * PostgreSQL through one dedicated LISTEN connection per process (modelled on
 * TokenChangesListener: reconnects with backoff, and reports `missed` on every
 * reconnect, since announcements made while it was down are gone); on the
 * embedded database through PGlite's own listen, as the same trigger fires there.
 * With nobody observing, an announcement costs a split of its text and nothing else.
 */
@Injectable()
export class ResultFinishedListener implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger(ResultFinishedListener.name);
  private readonly observers = new Set<FinishedObserver>();
  private client?: Client;
  private unlistenEmbedded?: () => Promise<void>;
  private stopped = false;
  private attempt = 0;
  private retry?: NodeJS.Timeout;

  constructor(
    private readonly dataSource: DataSource,
    @Inject(APP_CONFIG) private readonly config: Pick<AppConfig, 'database'>,
  ) {}

  subscribe(observer: FinishedObserver): () => void {
    this.observers.add(observer);
    return () => this.observers.delete(observer);
  }

  /** Listening before the server answers any call, so a waiter registered by a call cannot miss its row. */
  async onApplicationBootstrap(): Promise<void> {
    if (this.config.database.kind === 'postgres') await this.connect(this.config.database.url);
    else await this.listenEmbedded();
  }

  async onModuleDestroy(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.retry);
    await this.client?.end().catch(() => undefined);
    await this.unlistenEmbedded?.().catch(() => undefined);
  }

  private async listenEmbedded(): Promise<void> {
    const runner = this.dataSource.createQueryRunner();
    try {
      const session: unknown = await runner.connect();
      if (!(session instanceof PgliteClient)) throw new Error('the embedded database session is not a PGlite session');
      this.unlistenEmbedded = await session.listen(RESULT_FINISHED_CHANNEL, (payload) => this.heard(payload));
    } finally {
      await runner.release();
    }
  }

  private async connect(url: string): Promise<void> {
    const client = new Client({
      connectionString: url,
      connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
      keepAlive: true,
      application_name: 'js-result-service result listener',
    });
    client.on('notification', (message: Notification) => {
      if (message.channel === RESULT_FINISHED_CHANNEL) this.heard(message.payload);
    });
    client.on('error', (err) => this.lost(url, client, err));
    client.on('end', () => this.lost(url, client));
    try {
      await client.connect();
      await client.query(`LISTEN ${RESULT_FINISHED_CHANNEL}`);
      this.client = client;
      const reconnected = this.attempt > 0;
      this.attempt = 0;
      if (reconnected) this.emitMissed();
    } catch (err) {
      this.lost(url, client, err);
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

  private lost(url: string, client: Client, err?: unknown): void {
    if (this.stopped || client.listenerCount('notification') === 0) return;
    client.removeAllListeners('notification');
    client.removeAllListeners('end');
    // An 'error' after this must not crash the process.
    client.removeAllListeners('error');
    client.on('error', () => undefined);
    client.end().catch(() => undefined);
    if (this.client === client) this.client = undefined;
    const delay = RECONNECT_DELAYS_MS[Math.min(this.attempt++, RECONNECT_DELAYS_MS.length - 1)];
    this.logger.warn(`finished-run notifications lost (${err instanceof Error ? err.message : 'connection ended'}); reconnecting in ${delay} ms`);
    this.retry = setTimeout(() => void this.connect(url), delay).unref();
  }
}

import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '../config/app.config';
import { PgChannelListener } from '../database/pg-channel.listener';
import { TokenChanges } from './token-changes';

/** The channel the token table's trigger announces changes on (migration NotifyTokenChanges). */
export const TOKEN_CHANGED_CHANNEL = 'jsr_token_changed';

/**
 * On PostgreSQL, one dedicated connection LISTENs for token changes made
 * anywhere (this instance, others, the CLI) and passes them to TokenChanges.
 * While it is down, changes go unheard, so on every (re)connect the whole
 * cache is dropped; in between, the cache's TTL is the fallback. The embedded
 * database has one process, which hears its own changes directly.
 */
@Injectable()
export class TokenChangesListener implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger(TokenChangesListener.name);
  private listener?: PgChannelListener;

  constructor(
    private readonly changes: TokenChanges,
    @Inject(APP_CONFIG) private readonly config: Pick<AppConfig, 'database'>,
  ) {}

  /** Waits for the first connection, so the server answers no call before it listens (a failure retries in the background). */
  async onApplicationBootstrap(): Promise<void> {
    if (this.config.database.kind !== 'postgres') return;
    this.listener = new PgChannelListener(
      this.config.database.url,
      TOKEN_CHANGED_CHANNEL,
      'js-result-service token listener',
      {
        heard: (payload) => this.heard(payload),
        listening: () => {
          this.changes.setHearing(true);
          this.changes.missed();
        },
        lost: () => this.changes.setHearing(false),
      },
      this.logger,
    );
    await this.listener.start();
  }

  /** For readiness: on PostgreSQL, whether changes made elsewhere are heard now; the embedded database always hears its own. */
  get listening(): boolean {
    return this.config.database.kind !== 'postgres' || this.listener?.listening === true;
  }

  async onModuleDestroy(): Promise<void> {
    this.changes.setHearing(false);
    await this.listener?.stop();
  }

  private heard(payload: string | undefined): void {
    const tokenId = Number(payload);
    if (payload !== undefined && payload !== '' && Number.isSafeInteger(tokenId)) this.changes.changed(tokenId);
    else this.changes.missed();
  }
}

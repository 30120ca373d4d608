import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import { Client, type Notification } from 'pg';
import { APP_CONFIG, type AppConfig } from '../config/app.config';
import { TokenChanges } from './token-changes';

/** The channel the token table's trigger announces changes on (migration NotifyTokenChanges). */
export const TOKEN_CHANGED_CHANNEL = 'jsr_token_changed';

const RECONNECT_DELAYS_MS = [100, 500, 1_000, 2_000, 5_000];
const CONNECT_TIMEOUT_MS = 5_000;

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
  private client?: Client;
  private stopped = false;
  private attempt = 0;
  private retry?: NodeJS.Timeout;

  constructor(
    private readonly changes: TokenChanges,
    @Inject(APP_CONFIG) private readonly config: Pick<AppConfig, 'database'>,
  ) {}

  /** Waits for the first connection, so the server answers no call before it listens (a failure retries in the background). */
  async onApplicationBootstrap(): Promise<void> {
    if (this.config.database.kind === 'postgres') await this.connect(this.config.database.url);
  }

  async onModuleDestroy(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.retry);
    await this.client?.end().catch(() => undefined);
  }

  private async connect(url: string): Promise<void> {
    const client = new Client({
      connectionString: url,
      connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
      keepAlive: true,
      application_name: 'js-result-service token listener',
    });
    client.on('notification', (message) => this.heard(message));
    client.on('error', (err) => this.lost(url, client, err));
    client.on('end', () => this.lost(url, client));
    try {
      await client.connect();
      await client.query(`LISTEN ${TOKEN_CHANGED_CHANNEL}`);
      this.client = client;
      this.attempt = 0;
      this.changes.missed();
    } catch (err) {
      this.lost(url, client, err);
    }
  }

  private heard(message: Notification): void {
    if (message.channel !== TOKEN_CHANGED_CHANNEL) return;
    const tokenId = Number(message.payload);
    if (Number.isSafeInteger(tokenId)) this.changes.changed(tokenId);
    else this.changes.missed();
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
    this.changes.missed();
    const delay = RECONNECT_DELAYS_MS[Math.min(this.attempt++, RECONNECT_DELAYS_MS.length - 1)];
    this.logger.warn(`token change notifications lost (${err instanceof Error ? err.message : 'connection ended'}); reconnecting in ${delay} ms`);
    this.retry = setTimeout(() => void this.connect(url), delay).unref();
  }
}

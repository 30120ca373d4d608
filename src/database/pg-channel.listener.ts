import type { Logger } from '@nestjs/common';
import { Client, type Notification } from 'pg';

const RECONNECT_DELAYS_MS = [100, 500, 1_000, 2_000, 5_000];
const CONNECT_TIMEOUT_MS = 5_000;

export interface ChannelHandlers {
  /** A notification on the channel, its payload as sent. */
  heard(payload: string | undefined): void;
  /**
   * Listening (again). After a reconnect, whatever was announced while the
   * connection was down is gone: the handler must not trust what it inferred from the silence.
   */
  listening(reconnected: boolean): void;
  /** The connection is gone; announcements go unheard until `listening` again. */
  lost?(): void;
}

/**
 * One dedicated connection LISTENing on a PostgreSQL channel for the life of
 * the process. It reconnects with backoff when the connection fails or the
 * server drops it (a restart, pg_terminate_backend); the pool's connections
 * cannot listen, since each is lent to one statement at a time.
 */
export class PgChannelListener {
  private client?: Client;
  private stopped = false;
  private attempt = 0;
  private retry?: NodeJS.Timeout;

  constructor(
    private readonly url: string,
    private readonly channel: string,
    /** Shown in pg_stat_activity, so operators (and tests) can tell the connection apart. */
    private readonly applicationName: string,
    private readonly handlers: ChannelHandlers,
    private readonly logger: Logger,
  ) {}

  /** Whether the connection is up and LISTENing now (false while it reconnects). */
  get listening(): boolean {
    return this.client !== undefined;
  }

  /** Resolves after the first attempt: listening, or retrying in the background. */
  start(): Promise<void> {
    return this.connect();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.retry);
    await this.client?.end().catch(() => undefined);
  }

  private async connect(): Promise<void> {
    const client = new Client({
      connectionString: this.url,
      connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
      keepAlive: true,
      application_name: this.applicationName,
    });
    client.on('notification', (message: Notification) => {
      if (message.channel === this.channel) this.handlers.heard(message.payload);
    });
    client.on('error', (err) => this.lost(client, err));
    client.on('end', () => this.lost(client));
    try {
      await client.connect();
      // Channel names are constants of this code base, never input.
      await client.query(`LISTEN ${this.channel}`);
      this.client = client;
      const reconnected = this.attempt > 0;
      this.attempt = 0;
      this.handlers.listening(reconnected);
    } catch (err) {
      this.lost(client, err);
    }
  }

  private lost(client: Client, err?: unknown): void {
    if (this.stopped || client.listenerCount('notification') === 0) return;
    client.removeAllListeners('notification');
    client.removeAllListeners('end');
    // An 'error' after this must not crash the process.
    client.removeAllListeners('error');
    client.on('error', () => undefined);
    client.end().catch(() => undefined);
    if (this.client === client) this.client = undefined;
    this.handlers.lost?.();
    const delay = RECONNECT_DELAYS_MS[Math.min(this.attempt++, RECONNECT_DELAYS_MS.length - 1)];
    this.logger.warn(`${this.channel} notifications lost (${err instanceof Error ? err.message : 'connection ended'}); reconnecting in ${delay} ms`);
    this.retry = setTimeout(() => void this.connect(), delay).unref();
  }
}

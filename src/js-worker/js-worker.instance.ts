import { Inject, Injectable, Logger, type OnApplicationBootstrap } from '@nestjs/common';
import { Client } from 'pg';
import { APP_CONFIG, type AppConfig } from '../config/app.config';
import { DomainError, DomainErrorCode } from '../common/domain.error';
import { JsResultRepository } from '../js-result/js-result.repository';
import { TRY_LOCK_INSTANCE } from './js-worker.fragments';
import { JsWorkerRepository } from './js-worker.repository';

/** First key of this service's two-key advisory locks (the second is the instance number). */
export const INSTANCE_LOCK_CLASS = 727_201_146;
export const RESTART_MESSAGE = 'interrupted: server restarted';
/** How often a lost lock session is re-established and runs of dead instances are swept. */
const TICK_MS = 15_000;

/**
 * This server process as the owner of the runs it starts.
 *
 * Every run in flight has a row in js_worker_active_run naming the instance
 * that runs it. An instance takes a number from js_worker_instance_seq and
 * holds a session-level advisory lock on it for as long as it lives; a process
 * that dies, however it dies, loses its session and with it the lock. So a
 * tracked run whose instance holds no lock can never finish, and is finished
 * as a failure ("interrupted: server restarted"): at start-up, which covers
 * the restart of a single server, and every TICK_MS, which covers a server
 * that died beside others sharing one PostgreSQL database and was not
 * restarted. Live runs of other servers are never touched, and rows written
 * by other writers are not tracked and so never touched either.
 *
 * On PostgreSQL the lock lives on a connection of its own, outside the pool;
 * if that connection is lost it is re-established with the same number. The
 * embedded database has a single session in a single process, which holds the
 * lock until it closes.
 */
@Injectable()
export class JsWorkerInstance implements OnApplicationBootstrap {
  private readonly logger = new Logger(JsWorkerInstance.name);
  private instanceId?: number;
  private lockClient?: Client;
  private lockHeld = false;
  private timer?: NodeJS.Timeout;
  private ticking = false;
  private locking?: Promise<void>;
  private closed = false;

  constructor(
    private readonly workers: JsWorkerRepository,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly results: JsResultRepository,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    await this.ensureLock().catch((error: unknown) =>
      this.logger.warn({ err: error }, 'could not register this instance for JS worker runs; retrying in the background'),
    );
    await this.sweep().catch((error: unknown) =>
      this.logger.warn({ err: error }, 'could not finish the runs left by a previous process; retrying in the background'),
    );
    this.timer = setInterval(() => void this.tick(), TICK_MS);
    this.timer.unref();
  }

  /**
   * The number runs are tracked under. If the lock was lost (the database went
   * away) it is taken again first; 103 while that is not possible.
   */
  async currentId(): Promise<number> {
    if (!this.lockHeld) {
      this.locking ??= this.ensureLock().finally(() => (this.locking = undefined));
      await this.locking.catch(() => undefined);
    }
    if (this.instanceId === undefined || !this.lockHeld) {
      throw new DomainError(DomainErrorCode.DatabaseUnavailable, 'the database is unavailable, try again later');
    }
    return this.instanceId;
  }

  /**
   * Finishes as failures the tracked runs of instances that hold no lock, that
   * is, of processes that are gone. Returns the js_result ids it finished.
   */
  async sweep(now = Date.now()): Promise<number[]> {
    // The dead instances' tracking rows go, and their runs' js_result rows end, in one statement.
    const dead = {
      text: `DELETE FROM js_worker_active_run a
           WHERE a.instance_id <> $1
             AND NOT EXISTS (
               SELECT 1 FROM pg_locks l
               WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 2
                 AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
                 AND l.classid = $2::integer::oid AND l.objid = a.instance_id::oid)
           RETURNING a.js_result_id AS id`,
      values: [this.instanceId ?? 0, INSTANCE_LOCK_CLASS],
    };
    const ids = (await this.results.interruptRuns(dead, now, RESTART_MESSAGE)).map(Number);
    if (ids.length > 0) this.logger.warn({ ids }, `finished ${ids.length} JS worker run(s) left running by a stopped server`);
    return ids;
  }

  /** Gives the lock up (graceful shutdown, after this instance's runs were finished). Idempotent. */
  async close(): Promise<void> {
    this.closed = true;
    clearInterval(this.timer);
    const client = this.lockClient;
    this.lockClient = undefined;
    const held = this.lockHeld;
    this.lockHeld = false;
    if (!held || this.instanceId === undefined) {
      await client?.end().catch(() => undefined);
      return;
    }
    if (client) {
      await client.end().catch(() => undefined); // ending the session releases its locks
    } else {
      await this.workers.unlockInstance(INSTANCE_LOCK_CLASS, this.instanceId).catch(() => undefined);
    }
  }

  private async tick(): Promise<void> {
    if (this.ticking || this.closed) return;
    this.ticking = true;
    try {
      this.locking ??= this.ensureLock().finally(() => (this.locking = undefined));
      await this.locking;
      await this.sweep();
    } catch (error) {
      this.logger.warn({ err: error }, 'JS worker instance upkeep failed; retrying');
    } finally {
      this.ticking = false;
    }
  }

  private async ensureLock(): Promise<void> {
    if (this.closed) return;
    if (this.config.database.kind === 'embedded') {
      if (this.lockHeld) return;
      const id = this.instanceId ?? (await this.workers.nextInstanceId());
      await this.workers.lockInstance(INSTANCE_LOCK_CLASS, id);
      this.instanceId = id;
      this.lockHeld = true;
      return;
    }
    if (this.lockHeld && this.lockClient) {
      try {
        await this.lockClient.query('SELECT 1');
        return;
      } catch {
        this.dropLockClient();
      }
    }
    await this.lockOnOwnConnection(this.config.database.url);
  }

  private async lockOnOwnConnection(url: string): Promise<void> {
    const client = new Client({
      connectionString: url,
      application_name: 'js-result-service:js-worker-instance',
      connectionTimeoutMillis: 5_000,
      keepAlive: true,
    });
    // Without a listener a lost connection would be an uncaught error; the next tick reconnects.
    const lost = () => {
      if (this.lockClient === client) this.dropLockClient();
    };
    client.on('error', lost);
    client.on('end', lost);
    try {
      await client.connect();
      for (let attempt = 0; attempt < 5; attempt++) {
        const id = this.instanceId ?? (await this.workers.nextInstanceId());
        const [{ locked }] = (await client.query(TRY_LOCK_INSTANCE, [INSTANCE_LOCK_CLASS, id])).rows;
        if (locked) {
          if (this.closed) throw new Error('closed while locking');
          this.instanceId = id;
          this.lockClient = client;
          this.lockHeld = true;
          return;
        }
        // Only after the sequence wrapped around: someone else holds that number.
        if (this.instanceId !== undefined) throw new Error(`instance ${id} is locked by another session`);
      }
      throw new Error('no free instance number');
    } catch (error) {
      await client.end().catch(() => undefined);
      throw error;
    }
  }

  private dropLockClient(): void {
    const client = this.lockClient;
    this.lockClient = undefined;
    this.lockHeld = false;
    client?.end().catch(() => undefined);
  }
}

import { EventEmitter } from 'node:events';
import { ConnectionFailure } from './database.errors';
import { readsJsonAsText } from './json-as-text';
import type { PgLikeResult } from './pglite.protocol';
import type { PreparedStatements } from './prepared-statements';
import type { PgliteThread, ThreadEvents } from './pglite.thread';

type Release = (err?: unknown) => void;
type ConnectCallback = (err: Error | null, client: PgliteClient | null, release: Release) => void;

/** A statement as `pg` takes it as an object. */
interface QueryConfig {
  name?: string;
  text: string;
  values?: unknown[];
}

/** What a client needs of its pool: where its lease's statements go, and the channels. */
interface ClientPool {
  listen(channel: string, callback: (payload: string) => void, restarted?: () => void): Promise<() => Promise<void>>;
  counted<T>(work: Promise<T>): Promise<T>;
  /** The name the service gave the text, if it did (PreparedStatements). */
  nameOf(text: string): string | undefined;
}

/**
 * A leased session on the embedded database. Its statements run on the
 * database thread it was leased on; a transaction it opens has PGlite's one
 * session to itself until it ends (pglite.worker.ts), and if that thread ends
 * under it, its statements fail as EngineFailure rather than continue on a
 * new thread outside the transaction.
 */
export class PgliteClient extends EventEmitter {
  private released = false;

  constructor(
    private readonly pool: ClientPool,
    private readonly thread: PgliteThread,
    private readonly lease: number,
  ) {
    super();
  }

  async query(
    textOrStatement: string | QueryConfig,
    params?: unknown[],
    callback?: (err: unknown, res?: PgLikeResult) => void,
  ) {
    const text = typeof textOrStatement === 'string' ? textOrStatement : textOrStatement.text;
    if (typeof textOrStatement !== 'string') params = textOrStatement.values;
    try {
      const name = (typeof textOrStatement === 'string' ? undefined : textOrStatement.name) ?? this.pool.nameOf(text);
      const statement = { name, text, params, jsonAsText: readsJsonAsText(text) };
      const result = await this.pool.counted(this.thread.query(this.lease, statement));
      callback?.(null, result);
      return result;
    } catch (err) {
      if (callback) return callback(err);
      throw err;
    }
  }

  /**
   * LISTENs on `channel` for the embedded database's one session: PGlite hands
   * notifications to callbacks, not to a client's events. The pool keeps the
   * LISTEN across restarts of the database thread and calls `restarted` after
   * one (announcements made meanwhile are gone). Returns how to stop.
   */
  listen(channel: string, callback: (payload: string) => void, restarted?: () => void): Promise<() => Promise<void>> {
    return this.pool.listen(channel, callback, restarted);
  }

  /** Gives the lease back (pg's `release`); the thread rolls back a transaction left open. */
  giveBack(): void {
    if (this.released) return;
    this.released = true;
    this.thread.release(this.lease);
  }
}

/** An opened embedded database and how to give it back. */
export interface EmbeddedDatabase {
  thread: PgliteThread;
  close(): Promise<void>;
  /** Whether opening it again finds the same data (a directory, not memory). */
  reopenable: boolean;
}

interface ChannelListener {
  heard(payload: string): void;
  restarted?(): void;
}

/**
 * A `pg`-shaped driver module (`{ Pool }`) over the embedded database's
 * thread, so TypeORM's postgres dialect, migrations and query runners work
 * unchanged. Texts registered in `statements` run as named statements, as on
 * a server's connections. Leases are not serialised here: the thread runs statements in
 * the order they come and keeps a transaction's session to its lease. It
 * binds to its own database instead of a process-wide one, so several can be
 * open in one process (tests). The database is opened on first use, so
 * building a DataSource stays synchronous.
 *
 * Failing to lease a session is a ConnectionFailure, as on a server. When the
 * thread ends (a crash, or an engine that aborted), the statements it held
 * fail as EngineFailure, and a directory's database is opened again on a new
 * thread at once, its LISTENs restored; an in-memory database cannot be (its
 * data went with the thread), so it keeps failing with ConnectionFailure
 * until the process restarts.
 */
export function pgliteDriver(
  open: (events: ThreadEvents) => Promise<EmbeddedDatabase>,
  statements?: PreparedStatements,
): { Pool: new () => EventEmitter } {
  class PglitePool extends EventEmitter implements ClientPool {
    private opened?: Promise<EmbeddedDatabase>;
    private ended = false;
    private lostForGood = false;
    private nextLease = 1;
    /** Statements sent and not yet answered: pg Pool's counters are derived from it, for the metrics. */
    private inFlight = 0;
    private readonly channels = new Map<string, Set<ChannelListener>>();

    /** One session once the engine is open, as pg's Pool counts its connections. */
    get totalCount(): number {
      return this.opened && !this.ended ? 1 : 0;
    }

    get idleCount(): number {
      return this.totalCount - (this.inFlight > 0 ? 1 : 0);
    }

    /** Statements queued on the thread behind the one it runs. */
    get waitingCount(): number {
      return Math.max(0, this.inFlight - 1);
    }

    /** The running database thread, if any: for tests that make it crash. */
    get currentThread(): Promise<PgliteThread | undefined> {
      return this.opened ? this.opened.then((db) => db.thread, () => undefined) : Promise.resolve(undefined);
    }

    connect(callback?: ConnectCallback): Promise<PgliteClient> | void {
      const leased = this.lease();
      if (!callback) return leased;
      leased.then(
        (client) => callback(null, client, () => client.giveBack()),
        (err: Error) => callback(err, null, () => undefined),
      );
    }

    async query(textOrStatement: string | QueryConfig, params?: unknown[]) {
      const client = await this.lease();
      try {
        return await client.query(textOrStatement, params);
      } finally {
        client.giveBack();
      }
    }

    end(callback?: (err?: unknown) => void): Promise<void> | void {
      this.ended = true;
      const closing = this.opened ? this.opened.then((db) => db.close(), () => undefined) : Promise.resolve();
      if (!callback) return closing;
      closing.then(() => callback(), callback);
    }

    nameOf(text: string): string | undefined {
      return statements?.nameOf(text);
    }

    async counted<T>(work: Promise<T>): Promise<T> {
      this.inFlight++;
      try {
        return await work;
      } finally {
        this.inFlight--;
      }
    }

    async listen(channel: string, heard: (payload: string) => void, restarted?: () => void): Promise<() => Promise<void>> {
      const listener: ChannelListener = { heard, restarted };
      let listeners = this.channels.get(channel);
      if (!listeners) {
        listeners = new Set();
        this.channels.set(channel, listeners);
      }
      listeners.add(listener);
      try {
        await (await this.engine()).thread.listen(channel);
      } catch (err) {
        listeners.delete(listener);
        throw err;
      }
      return async () => {
        listeners.delete(listener);
        if (listeners.size > 0 || this.channels.get(channel) !== listeners) return;
        this.channels.delete(channel);
        const db = await this.opened?.catch(() => undefined);
        if (db?.thread.alive) await db.thread.unlisten(channel);
      };
    }

    private async lease(): Promise<PgliteClient> {
      if (this.ended) throw new ConnectionFailure(new Error('the embedded database is closed'));
      let db: EmbeddedDatabase;
      try {
        db = await this.engine();
      } catch (err) {
        throw new ConnectionFailure(err);
      }
      return new PgliteClient(this, db.thread, this.nextLease++);
    }

    /** The open database; a failed open is tried again by the next caller. */
    private engine(): Promise<EmbeddedDatabase> {
      if (this.lostForGood) return Promise.reject(new Error('the in-memory embedded database failed'));
      if (!this.opened) this.opened = this.opening(Promise.resolve(), false);
      return this.opened;
    }

    private opening(after: Promise<void>, restart: boolean): Promise<EmbeddedDatabase> {
      const opening = after.then(async () => {
        const db = await open({ notification: (channel, payload) => this.heard(channel, payload), ended: () => this.threadEnded(opening) });
        await this.restoreListens(db, restart);
        return db;
      });
      opening.catch(() => {
        if (this.opened === opening) this.opened = undefined;
      });
      return opening;
    }

    private async restoreListens(db: EmbeddedDatabase, restart: boolean): Promise<void> {
      for (const channel of this.channels.keys()) await db.thread.listen(channel);
      if (!restart) return;
      for (const listeners of this.channels.values()) for (const listener of listeners) listener.restarted?.();
    }

    /** The thread ended by itself: a directory's database is opened again on a new one, now. */
    private threadEnded(which: Promise<EmbeddedDatabase>): void {
      if (this.ended || this.opened !== which) return;
      void which.then((db) => {
        if (!db.reopenable) {
          this.lostForGood = true;
          return;
        }
        // The lock is given back by close and taken again by open.
        this.opened = this.opening(db.close().catch(() => undefined), true);
        this.opened.catch(() => undefined);
      });
    }

    private heard(channel: string, payload: string): void {
      for (const listener of this.channels.get(channel) ?? []) listener.heard(payload);
    }
  }
  return { Pool: PglitePool };
}

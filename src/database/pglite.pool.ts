import { EventEmitter } from 'node:events';
import type { PGlite, Results } from '@electric-sql/pglite';
import { ConnectionFailure, EngineFailure } from './database.errors';
import { PGLITE_JSON_AS_TEXT_PARSERS, readsJsonAsText } from './json-as-text';

type Release = (err?: unknown) => void;
type ConnectCallback = (err: Error | null, client: PgliteClient | null, release: Release) => void;

/** A statement as `pg` takes it as an object. */
interface QueryConfig {
  name?: string;
  text: string;
  values?: unknown[];
}

/** The slice of a `pg` query result that TypeORM's postgres driver reads. */
interface PgLikeResult {
  rows: unknown[];
  rowCount: number;
  command?: string;
}

function toPgResult(result: Results): PgLikeResult {
  return {
    rows: result.rows,
    rowCount: result.rowCount ?? result.affectedRows ?? result.rows.length,
    command: (result as { command?: string }).command,
  };
}

/**
 * A leased session on the embedded database. PGlite is one backend, so a lease
 * is exclusive: a transaction begun on it cannot swallow another caller's queries.
 */
export class PgliteClient extends EventEmitter {
  constructor(
    private readonly db: PGlite,
    private readonly engineFailed: () => void = () => undefined,
  ) {
    super();
  }

  async query(
    textOrStatement: string | QueryConfig,
    params?: unknown[],
    callback?: (err: unknown, res?: PgLikeResult) => void,
  ) {
    // A statement's name only matters to a server with per-connection prepared statements.
    const text = typeof textOrStatement === 'string' ? textOrStatement : textOrStatement.text;
    if (typeof textOrStatement !== 'string') params = textOrStatement.values;
    try {
      const result = readsJsonAsText(text)
        ? toPgResult(await this.db.query(text, params, { parsers: PGLITE_JSON_AS_TEXT_PARSERS }))
        : params && params.length > 0
          ? toPgResult(await this.db.query(text, params))
          : // Without parameters TypeORM may send several statements at once (migrations do).
            lastOf(await this.db.exec(text));
      callback?.(null, result);
      return result;
    } catch (err) {
      const failure = this.failureOf(err);
      if (callback) return callback(failure);
      throw failure;
    }
  }

  /**
   * A statement error is the statement's fault unless the engine is gone: closed
   * under it, or the WebAssembly runtime aborted (after which it answers nothing).
   */
  private failureOf(err: unknown): unknown {
    // WebAssembly.RuntimeError, by name: the compiled libraries do not declare WebAssembly's types.
    if (!this.db.closed && !(err instanceof Error && err.name === 'RuntimeError')) return err;
    this.engineFailed();
    return new EngineFailure(err);
  }

  /**
   * LISTENs on `channel` for the embedded database's one session: PGlite hands
   * notifications to callbacks, not to a client's events. Taken on a lease, so
   * the LISTEN cannot land in (and be rolled back with) another caller's
   * transaction. Returns how to stop.
   */
  async listen(channel: string, callback: (payload: string) => void): Promise<() => Promise<void>> {
    return this.db.listen(channel, callback);
  }
}

function lastOf(results: Results[]): PgLikeResult {
  const last = results[results.length - 1];
  return last ? toPgResult(last) : { rows: [], rowCount: 0 };
}

/** First-come, first-served exclusive access, so waiting callers keep their order. */
class Mutex {
  private tail: Promise<void> = Promise.resolve();

  acquire(): Promise<() => void> {
    let unlock!: () => void;
    const released = new Promise<void>((resolve) => (unlock = resolve));
    const acquired = this.tail.then(() => unlock);
    this.tail = this.tail.then(() => released);
    return acquired;
  }
}

/** An opened embedded database and how to give it back. */
export interface EmbeddedDatabase {
  db: PGlite;
  close(): Promise<void>;
  /** Whether opening it again finds the same data (a directory, not memory). */
  reopenable: boolean;
}

/**
 * A `pg`-shaped driver module (`{ Pool }`) over one PGlite instance, so TypeORM's
 * postgres dialect, migrations and query runners work unchanged on the embedded
 * database. Unlike a shared-session adapter it serialises leases, which keeps
 * transactions isolated, and it binds to its own instance instead of a
 * process-wide singleton, so several databases can be open in one process (tests).
 * The database is opened on first use, so building a DataSource stays synchronous.
 *
 * Failing to lease a session is a ConnectionFailure, as on a server. An engine
 * that failed (closed under the pool, or aborted) is closed and its directory
 * opened again by the next lease, so the service recovers without a restart;
 * an in-memory database cannot be (its data went with the engine), so it keeps
 * failing with ConnectionFailure until the process restarts.
 */
export function pgliteDriver(open: () => Promise<EmbeddedDatabase>): { Pool: new () => EventEmitter } {
  class PglitePool extends EventEmitter {
    private readonly mutex = new Mutex();
    private opened?: Promise<EmbeddedDatabase>;
    private ended = false;
    private failed = false;
    /** Callers queued for the session, and whether it is lent: pg Pool's counters, for the metrics. */
    private waiting = 0;
    private leased = false;

    /** One session once the engine is open, as pg's Pool counts its connections. */
    get totalCount(): number {
      return this.opened && !this.ended ? 1 : 0;
    }

    get idleCount(): number {
      return this.totalCount - (this.leased ? 1 : 0);
    }

    get waitingCount(): number {
      return this.waiting;
    }

    connect(callback?: ConnectCallback): Promise<PgliteClient> | void {
      const leased = this.lease();
      if (!callback) return leased.then(([client]) => client);
      leased.then(
        ([client, release]) => callback(null, client, release),
        (err: Error) => callback(err, null, () => undefined),
      );
    }

    async query(textOrStatement: string | QueryConfig, params?: unknown[]) {
      const [client, release] = await this.lease();
      try {
        return await client.query(textOrStatement, params);
      } finally {
        release();
      }
    }

    end(callback?: (err?: unknown) => void): Promise<void> | void {
      this.ended = true;
      const closing = this.opened ? this.opened.then((database) => database.close()) : Promise.resolve();
      if (!callback) return closing;
      closing.then(() => callback(), callback);
    }

    private async lease(): Promise<[PgliteClient, Release]> {
      if (this.ended) throw new ConnectionFailure(new Error('the embedded database is closed'));
      // Taken before the engine is looked at, so that only a lease holder may replace a failed one.
      this.waiting++;
      // The mutex never rejects.
      const unlock = await this.mutex.acquire();
      this.waiting--;
      let db: PGlite;
      try {
        db = await this.engine();
      } catch (err) {
        unlock();
        throw new ConnectionFailure(err);
      }
      let released = false;
      this.leased = true;
      const release = () => {
        if (released) return;
        released = true;
        this.leased = false;
        unlock();
      };
      return [new PgliteClient(db, () => (this.failed = true)), release];
    }

    /** The open engine; a failed one is replaced if its data survives it, and a failed open is tried again. */
    private async engine(): Promise<PGlite> {
      const current = await this.opened?.catch(() => undefined);
      if (current && !this.failed && !current.db.closed) return current.db;
      if (current && !current.reopenable) throw new Error('the in-memory embedded database failed');
      await current?.close().catch(() => undefined);
      this.failed = false;
      this.opened = open();
      return (await this.opened).db;
    }
  }
  return { Pool: PglitePool };
}

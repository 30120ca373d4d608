import { Query } from 'pg';
import type { QueryRunner } from 'typeorm';
import { withDatabase } from './database.errors';
import type { Statement } from './statement';

/**
 * The one cursor a held session opens at a time (a session streams one read).
 * A fixed name: the statement opening it is then the same text every time,
 * and is parsed once per connection like every other named statement.
 */
export const CURSOR_NAME = 'jsr_stream';

/** The text that opens CURSOR_NAME over a SELECT (its values bound as the SELECT's). */
export const declareCursorText = (select: string) => `DECLARE ${CURSOR_NAME} NO SCROLL CURSOR FOR ${select}`;

/** The pooled pg client a PostgreSQL QueryRunner holds once connected (what its `connect` resolves to). */
interface PgClient {
  query(query: Query): Query;
}

/** What pg hands a query for each message of its answer (the Submittable protocol; the parts used here). */
interface RowDescription {
  fields: { name: string }[];
}
interface DataRow {
  fields: (string | null)[];
}

/**
 * A pg query that hands one column's text of each row on as it arrives,
 * building no row objects and keeping none; settled once through
 * `settle`, with the count of rows, when the answer is complete (or failed).
 */
class ColumnQuery extends Query {
  private at = -1;
  private count = 0;
  private failure: { error: unknown } | undefined;

  constructor(
    text: string,
    private readonly column: string,
    private readonly take: (text: string | null) => void,
    settle: (error: unknown, count: number) => void,
  ) {
    super(text, (error) => settle(error ?? this.failure?.error, this.count));
  }

  handleRowDescription(message: RowDescription): void {
    this.at = message.fields.findIndex((field) => field.name === this.column);
    if (this.at < 0) this.failure = { error: new Error(`the cursor's rows have no column ${this.column}`) };
  }

  handleDataRow(message: DataRow): void {
    if (this.failure) return;
    this.count++;
    try {
      this.take(message.fields[this.at] ?? null);
    } catch (error) {
      this.failure = { error };
    }
  }
}

/**
 * A statement's rows read in batches through a server-side cursor, on one
 * connection held (in a transaction, as a cursor needs) until `close`: the
 * database keeps what the statement produced, and this process holds one
 * batch at a time. `close` ends the transaction and gives the connection back
 * to the pool, whatever happened before.
 */
export class RowCursor<T> {
  private closed = false;

  private constructor(
    private readonly runner: QueryRunner,
    private readonly client: PgClient | undefined,
  ) {}

  /** Opens the cursor over `statement`, whose text was made with declareCursorText. */
  static async open<T>(runner: QueryRunner, statement: Statement): Promise<RowCursor<T>> {
    let client: unknown;
    try {
      client = await withDatabase(() => runner.connect());
    } catch (error) {
      await runner.release();
      throw error;
    }
    const cursor = new RowCursor<T>(runner, isPgClient(client) ? client : undefined);
    try {
      await withDatabase(async () => {
        await runner.query('BEGIN READ ONLY');
        await runner.query(statement.text, statement.values);
      });
      return cursor;
    } catch (error) {
      await cursor.close();
      throw error;
    }
  }

  /** The next `rows` rows at most; fewer (or none) at the end. */
  fetch(rows: number): Promise<T[]> {
    if (this.closed) return Promise.resolve([]);
    return withDatabase(async () => (await this.runner.query(fetchText(rows))) as T[]);
  }

  /**
   * The next `rows` rows at most, of each only `column`'s text (null for
   * NULL) handed to `take` as the row arrives, and kept by nobody: how many
   * rows came. Gathered into a batch (as `fetch` does, and as pg does for
   * any query with a callback, which its read timeout gives every query),
   * each row lived until the batch's last came: long enough, under load, to
   * outlive a young-generation collection, and the old generation grew by
   * the size of every large read. A `take` that throws fails the fetch once
   * its rows are read (the connection stays usable).
   */
  fetchColumn(rows: number, column: string, take: (text: string | null) => void): Promise<number> {
    if (this.closed) return Promise.resolve(0);
    const client = this.client;
    if (client === undefined) {
      return this.fetch(rows).then((batch) => {
        for (const row of batch) take((row as Record<string, string | null>)[column] ?? null);
        return batch.length;
      });
    }
    return withDatabase(
      () =>
        new Promise<number>((resolve, reject) => {
          const query = new ColumnQuery(fetchText(rows), column, take, (error, count) => (error ? reject(error) : resolve(count)));
          client.query(query);
        }),
    );
  }

  /** Ends the transaction (closing the cursor) and gives the connection back; once. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    try {
      await this.runner.query('ROLLBACK');
    } catch {
      // ROLLBACK fails only on a connection that is gone (it succeeds even in an
      // aborted transaction); pg's pool discards a released client that can no
      // longer be queried, so no transaction goes back to the pool.
    } finally {
      await this.runner.release();
    }
  }
}

/** FETCH's text for `rows`: an integer this code chose, never a caller's value (FETCH takes no parameter for its count). */
const fetchText = (rows: number) => `FETCH FORWARD ${Math.max(1, Math.floor(rows))} FROM ${CURSOR_NAME}`;

function isPgClient(value: unknown): value is PgClient {
  return typeof value === 'object' && value !== null && typeof (value as { query?: unknown }).query === 'function';
}

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

/**
 * A statement's rows read in batches through a server-side cursor, on one
 * connection held (in a transaction, as a cursor needs) until `close`: the
 * database keeps what the statement produced, and this process holds one
 * batch at a time. `close` ends the transaction and gives the connection back
 * to the pool, whatever happened before.
 */
export class RowCursor<T> {
  private closed = false;

  private constructor(private readonly runner: QueryRunner) {}

  /** Opens the cursor over `statement`, whose text was made with declareCursorText. */
  static async open<T>(runner: QueryRunner, statement: Statement): Promise<RowCursor<T>> {
    try {
      await withDatabase(() => runner.connect());
    } catch (error) {
      await runner.release();
      throw error;
    }
    const cursor = new RowCursor<T>(runner);
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
    // An integer this code chose, never a caller's value: FETCH takes no parameter for its count.
    const count = Math.max(1, Math.floor(rows));
    return withDatabase(async () => (await this.runner.query(`FETCH FORWARD ${count} FROM ${CURSOR_NAME}`)) as T[]);
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

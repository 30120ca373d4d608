import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource, EntityTarget, ObjectLiteral, QueryRunner, SelectQueryBuilder } from 'typeorm';
import { JSR_DATA_SOURCE } from './data-source.name';
import { withDatabase } from './database.errors';
import { JSON_AS_TEXT } from './json-as-text';
import { PreparedStatements } from './prepared-statements';
import { RowCursor } from './row-cursor';
import type { Statement } from './statement';

/** How a statement's text goes out; decided once, when its shape is built. */
export interface TextOptions {
  /** Run as a named statement (parsed once per connection) while the registry has room. */
  named?: boolean;
  /** json and jsonb columns reach the caller as their JSON text, unparsed (see JSON_AS_TEXT). */
  jsonAsText?: boolean;
}

/** Where one statement runs: the pool (a connection per statement) or one held session. */
type Executor = (text: string, values: unknown[]) => Promise<unknown>;

/**
 * The one way repositories run SQL: a statement in, its rows out, and
 * "the database is not there" turned into the domain's DatabaseUnavailable
 * (withDatabase); anything else (a bug) propagates untouched.
 *
 * Rows come back whatever the command: a DELETE or UPDATE with RETURNING
 * answers its rows as a SELECT does (DataSource.query would hand those back
 * as `[rows, count]`).
 */
@Injectable()
export class Database {
  constructor(
    @InjectDataSource(JSR_DATA_SOURCE) readonly dataSource: DataSource,
    private readonly statements: PreparedStatements,
  ) {}

  /**
   * A statement text as it will be sent: marked to read JSON as text, and
   * registered under a name. Call it when a shape is built, not per call: the
   * registry is keyed by the whole text.
   */
  prepare(text: string, options: TextOptions = {}): string {
    const sent = options.jsonAsText === true ? JSON_AS_TEXT + text : text;
    if (options.named === true) this.statements.register(sent);
    return sent;
  }

  /** The rows one statement answers. */
  rows<T = Record<string, unknown>>(statement: Statement): Promise<T[]> {
    return withDatabase(() => runOn(this.pooled, statement) as Promise<T[]>);
  }

  /** The first row one statement answers, if any. */
  async first<T = Record<string, unknown>>(statement: Statement): Promise<T | undefined> {
    const [row] = await this.rows<T>(statement);
    return row;
  }

  /** A query builder on this database, for the parts of a statement TypeORM can express. */
  select<T extends ObjectLiteral>(entity: EntityTarget<T>, alias: string): SelectQueryBuilder<T> {
    return this.dataSource.getRepository(entity).createQueryBuilder(alias);
  }

  /**
   * Work on one connection held for its whole length: session-level advisory
   * locks, or statements that must see each other's session. The connection
   * goes back to the pool when `work` settles.
   */
  session<T>(work: (session: Session) => Promise<T>): Promise<T> {
    return withDatabase(async () => {
      const runner = this.dataSource.createQueryRunner();
      try {
        return await work(new Session(runner));
      } finally {
        await runner.release();
      }
    });
  }

  /**
   * A statement's rows in batches, through a cursor on a connection held
   * until the cursor is closed (see RowCursor); `statement`'s text opens the
   * cursor (declareCursorText). The caller must close it on every path.
   */
  cursor<T>(statement: Statement): Promise<RowCursor<T>> {
    return withDatabase(() => RowCursor.open<T>(this.dataSource.createQueryRunner(), statement));
  }

  private readonly pooled: Executor = async (text, values) => {
    const runner = this.dataSource.createQueryRunner();
    try {
      return await runner.query(text, values, true);
    } finally {
      await runner.release();
    }
  };
}

/** Where a repository's statement runs: the pool, or one held session (see Database.session). */
export type StatementRunner = Pick<Database, 'rows'> | Session;

/** Statements on one held connection (see Database.session). */
export class Session {
  constructor(readonly runner: QueryRunner) {}

  rows<T = Record<string, unknown>>(statement: Statement): Promise<T[]> {
    return withDatabase(() => runOn((text, values) => this.runner.query(text, values, true), statement) as Promise<T[]>);
  }

  async first<T = Record<string, unknown>>(statement: Statement): Promise<T | undefined> {
    const [row] = await this.rows<T>(statement);
    return row;
  }
}

async function runOn(execute: Executor, { text, values }: Statement): Promise<unknown[]> {
  const result = (await execute(text, values)) as { records?: unknown[] };
  return result.records ?? [];
}

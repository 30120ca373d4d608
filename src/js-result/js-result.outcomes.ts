import { COLUMN_OF } from './js-result.columns';

/**
 * What a row says of its run's outcome, as SQL sees it: whether `result` and
 * `error_message` are set. Neither is ever parsed: a script that returned
 * null stored jsonb 'null', which is NOT NULL in SQL, so it succeeded.
 */
export interface OutcomeColumns {
  hasResult: boolean;
  hasError: boolean;
}

/** A column by entity property (`result`, `errorMessage`), qualified as the statement needs it. */
export type OutcomeColumn = (property: 'result' | 'errorMessage') => string;

interface OutcomeRule {
  /** The SQL predicate; compound ones bring their own parentheses, as TypeORM joins terms as written. */
  sql(column: OutcomeColumn): string;
  /** The same predicate in memory, for rows already read (the subscriptions' matcher). */
  holds(row: OutcomeColumns): boolean;
}

/**
 * The outcomes a js_result row can be in (JSRESULT.md §1), each defined once
 * for SQL and for memory: the query conditions (is_success, is_failure,
 * is_running), the in-memory matcher, retention's outcomes and the sweep of
 * runs left by a dead instance all use these. A failure may also have a result.
 */
export const OUTCOMES = {
  succeeded: {
    sql: (c) => `(${c('result')} IS NOT NULL AND ${c('errorMessage')} IS NULL)`,
    holds: (row) => row.hasResult && !row.hasError,
  },
  failed: {
    sql: (c) => `${c('errorMessage')} IS NOT NULL`,
    holds: (row) => row.hasError,
  },
  running: {
    sql: (c) => `(${c('result')} IS NULL AND ${c('errorMessage')} IS NULL)`,
    holds: (row) => !row.hasResult && !row.hasError,
  },
  /** Succeeded or failed: not running. */
  finished: {
    sql: (c) => `(${c('result')} IS NOT NULL OR ${c('errorMessage')} IS NOT NULL)`,
    holds: (row) => row.hasResult || row.hasError,
  },
} as const satisfies Record<string, OutcomeRule>;

export type RunOutcome = keyof typeof OUTCOMES;

/** Columns of the raw SQL written beside the QueryBuilder (`r.error_message`), under `alias`. */
export const sqlColumns =
  (alias: string): OutcomeColumn =>
  (property) =>
    `${alias}.${COLUMN_OF[property]}`;

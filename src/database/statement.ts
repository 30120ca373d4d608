/** A statement for `dataSource.query(text, values)`; every client value is in `values`, never in the text. */
export interface Statement {
  text: string;
  values: unknown[];
}

/** The database clock in epoch milliseconds, as the bigint columns hold times: so every instance agrees on "now". */
export const NOW_MS_SQL = 'floor(extract(epoch FROM statement_timestamp()) * 1000)::bigint';

/** A QueryBuilder's statement, as repositories run it. */
export function statementOf(qb: { getQueryAndParameters(): [string, unknown[]] }): Statement {
  const [text, values] = qb.getQueryAndParameters();
  return { text, values };
}

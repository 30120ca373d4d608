import { OUTCOMES, type OutcomeColumns } from '../js-result/js-result.outcomes';
import { recordsJsonText, type RunFields, toRunFields } from '../js-result/js-result.record';
import type { CappedRow, JsResultRepository } from '../js-result/js-result.repository';

/**
 * A row as the events need it. What it is (finished, failed) comes from SQL
 * columns, never from parsing `result`, so nothing a row holds is parsed here;
 * its record is the JSON text written from the database's own text of
 * `param` and `result`, exact whatever numbers or depth they hold.
 */
export interface ResultRow extends OutcomeColumns {
  /** The columns the conditions and permissions look at: never the large ones. */
  record: RunFields;
  /** `result IS NOT NULL` in SQL: a script that returned null succeeded. */
  hasResult: boolean;
  /** `error_message IS NOT NULL`. */
  hasError: boolean;
  /** What the record's reply would take, measured by the database before anything large was sent. */
  bytes: number;
  /** The record as JSON text; absent when withheld. */
  json?: string;
  /**
   * Why `json` is absent: `too-large`, over the row cap (it is never loaded);
   * `later`, it would have taken the read over its batch cap: read it again.
   */
  withheld?: 'too-large' | 'later';
}

/** Finished as LIFECYCLE.md has it: `finish_time`, `result` or `error_message` set (the triggers' test). */
export function isFinished(row: Pick<ResultRow, 'record' | 'hasResult' | 'hasError'>): boolean {
  return row.record.finish_time !== null || OUTCOMES.finished.holds(row);
}

export interface ReadCaps {
  /** The most one record may take; a larger one is withheld as `too-large`. */
  rowBytes: number;
  /** The most the records sent by one read may take together; past it they are withheld as `later`. */
  batchBytes: number;
}

function toResultRow(text: CappedRow): ResultRow {
  const record = toRunFields(text);
  const bytes = Number(text.bytes);
  const read: ResultRow = { record, hasResult: text.has_result === true, hasError: text.has_error === true, bytes };
  if (text.sent === true) read.json = recordsJsonText([text]).slice(1, -1);
  else read.withheld = 'too-large';
  return read;
}

/**
 * The rows with these ids (decimal text), in the order of `ids`; missing ids
 * are absent; measured in the database (JsResultRepository.cappedByIds). Rows over `caps.rowBytes` come without their record
 * (`too-large`), and once the rows sent reach `caps.batchBytes` the rest come
 * without theirs (`later`), to be read again.
 */
export async function readResultRows(results: JsResultRepository, ids: readonly string[], caps: ReadCaps): Promise<ResultRow[]> {
  if (ids.length === 0) return [];
  return resultRowsFrom(await results.cappedByIds(ids, caps.rowBytes, caps.batchBytes), caps);
}

/** Rows measured and capped in the database (cappedByIds, or a finish that read its records back) at `caps`. */
export function resultRowsFrom(rows: readonly CappedRow[], caps: Pick<ReadCaps, 'rowBytes'>): ResultRow[] {
  return rows.map((row) => {
    const read = toResultRow(row);
    if (read.withheld !== undefined && read.bytes <= caps.rowBytes) read.withheld = 'later';
    return read;
  });
}

/** One row, or undefined when there is none with this id. */
export async function readResultRow(results: JsResultRepository, id: string, rowBytes: number): Promise<ResultRow | undefined> {
  const [row] = await readResultRows(results, [id], { rowBytes, batchBytes: rowBytes });
  return row;
}

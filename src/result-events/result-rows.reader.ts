import { DataSource } from 'typeorm';
import { withDatabase } from '../database/database.errors';
import { recordsJsonText, type RunFields, type TextRow, toRunFields } from '../js-result/js-result.record';

/**
 * A row as the events need it. What it is (finished, failed) comes from SQL
 * columns, never from parsing `result`, so nothing a row holds is parsed here;
 * its record is the JSON text written from the database's own text of
 * `param` and `result`, exact whatever numbers or depth they hold.
 */
export interface ResultRow {
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
  return row.record.finish_time !== null || row.hasResult || row.hasError;
}

/**
 * The record's bytes on the wire, from the database's text of its large
 * columns plus the rest of the record and a reply's envelope (ids and times
 * at their longest); string escapes aside, which the reply's own charge sees.
 */
const RECORD_OVERHEAD_BYTES = 256;

/**
 * The rows of `$1` in that order (missing ids skipped). `param` and `result`
 * are turned into text once (`OFFSET 0` keeps the planner from repeating the
 * cast in each CASE) and measured there: a row above `$2` bytes, or one
 * that would take the rows before it past `$3` (the first row sent always
 * goes), is not sent, only its size. So neither the database's reply nor
 * this process ever holds more than the caps, whatever the rows hold.
 */
const SELECT_CAPPED = `SELECT m.id, m.js_worker_id, m.js_worker_name, m.run_type, m.start_time, m.finish_time,
    m.has_result, m.has_error, m.bytes, m.sent,
    CASE WHEN m.sent THEN m.p END AS param, CASE WHEN m.sent THEN m.r END AS result, CASE WHEN m.sent THEN m.e END AS error_message
  FROM (SELECT s.*, s.bytes <= $2::float8 AND (s.running <= $3::float8 OR s.running = s.bytes) AS sent
    FROM (SELECT w.n, j.id, j.js_worker_id, j.js_worker_name, j.run_type, j.start_time, j.finish_time,
        j.result IS NOT NULL AS has_result, j.error_message IS NOT NULL AS has_error, t.p, t.r, t.e, t.bytes,
        sum(CASE WHEN t.bytes <= $2::float8 THEN t.bytes ELSE 0 END) OVER (ORDER BY w.n) AS running
      FROM unnest($1::bigint[]) WITH ORDINALITY AS w(id, n)
      JOIN js_result j ON j.id = w.id
      CROSS JOIN LATERAL (
        SELECT x.p, x.r, x.e,
          (coalesce(octet_length(x.p), 4) + coalesce(octet_length(x.r), 4) + coalesce(octet_length(x.e), 4)
            + octet_length(j.js_worker_name) + octet_length(j.run_type) + ${RECORD_OVERHEAD_BYTES})::float8 AS bytes
        FROM (SELECT j.param::text AS p, j.result::text AS r, j.error_message AS e OFFSET 0) x
      ) t) s) m
  ORDER BY m.n`;

export interface ReadCaps {
  /** The most one record may take; a larger one is withheld as `too-large`. */
  rowBytes: number;
  /** The most the records sent by one read may take together; past it they are withheld as `later`. */
  batchBytes: number;
}

type Column = string | number | bigint | null;

function toResultRow(row: Record<string, Column | boolean>): ResultRow {
  const text = row as TextRow & { has_result: boolean; has_error: boolean; bytes: number | string; sent: boolean };
  const record = toRunFields(text);
  const bytes = Number(text.bytes);
  const read: ResultRow = { record, hasResult: text.has_result === true, hasError: text.has_error === true, bytes };
  if (text.sent === true) read.json = recordsJsonText([text]).slice(1, -1);
  else read.withheld = 'too-large';
  return read;
}

/**
 * The rows with these ids (decimal text), in the order of `ids`; missing ids
 * are absent. Rows over `caps.rowBytes` come without their record
 * (`too-large`), and once the rows sent reach `caps.batchBytes` the rest come
 * without theirs (`later`), to be read again.
 */
export async function readResultRows(dataSource: DataSource, ids: readonly string[], caps: ReadCaps): Promise<ResultRow[]> {
  if (ids.length === 0) return [];
  const rows: Record<string, Column | boolean>[] = await withDatabase(() => dataSource.query(SELECT_CAPPED, [ids, caps.rowBytes, caps.batchBytes]));
  return rows.map((row) => {
    const read = toResultRow(row);
    if (read.withheld !== undefined && read.bytes <= caps.rowBytes) read.withheld = 'later';
    return read;
  });
}

/** One row, or undefined when there is none with this id. */
export async function readResultRow(dataSource: DataSource, id: string, rowBytes: number): Promise<ResultRow | undefined> {
  const [row] = await readResultRows(dataSource, [id], { rowBytes, batchBytes: rowBytes });
  return row;
}

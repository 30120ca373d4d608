import { DataSource } from 'typeorm';
import { withDatabase } from '../database/database.errors';
import { type JsResultRecord, toRecord } from '../js-result/js-result.record';

/** A row as the events need it: the wire record, and what the record cannot tell (jsonb 'null' reads as null). */
export interface ResultRow {
  record: JsResultRecord;
  /** `result IS NOT NULL` in SQL: a script that returned null succeeded. */
  hasResult: boolean;
}

/** Finished as LIFECYCLE.md has it: `finish_time`, `result` or `error_message` set (the triggers' test). */
export function isFinished(row: ResultRow): boolean {
  return row.record.finish_time !== null || row.hasResult || row.record.error_message !== null;
}

const SELECT_BY_IDS = `SELECT id, js_worker_id, js_worker_name, run_type, start_time, finish_time, param, result, error_message,
    (result IS NOT NULL) AS has_result
  FROM js_result WHERE id = ANY($1::bigint[])`;

/** The rows with these ids (decimal text), by id as decimal text; missing ids are absent. */
export async function readResultRows(dataSource: DataSource, ids: readonly string[]): Promise<Map<string, ResultRow>> {
  const found = new Map<string, ResultRow>();
  if (ids.length === 0) return found;
  const rows: Record<string, unknown>[] = await withDatabase(() => dataSource.query(SELECT_BY_IDS, [ids]));
  for (const row of rows) {
    const record = toRecord(row as Parameters<typeof toRecord>[0]);
    found.set(String(record.id), { record, hasResult: row.has_result === true });
  }
  return found;
}

/** A JsResult as it goes on the wire: exactly these nine keys, integers as JSON numbers. */
export interface JsResultRecord {
  id: number | bigint;
  js_worker_id: number | bigint;
  js_worker_name: string;
  run_type: string;
  start_time: number | bigint | null;
  finish_time: number | bigint | null;
  param: unknown;
  result: unknown;
  error_message: string | null;
}

export interface DeleteOutcome {
  success: true;
  deleted: number;
  condition_count: number;
}

/**
 * bigint columns arrive as strings from `pg` and as numbers or BigInts from
 * PGlite. Values beyond 2^53 stay BigInt so the serializer can write them exactly.
 */
export function wireInteger(value: string | number | bigint): number | bigint;
export function wireInteger(value: string | number | bigint | null): number | bigint | null;
export function wireInteger(value: string | number | bigint | null): number | bigint | null {
  if (value === null || typeof value === 'number') return value;
  const asNumber = Number(value);
  return Number.isSafeInteger(asNumber) ? asNumber : BigInt(value);
}

type Row = Record<keyof JsResultRecord, unknown>;

export function toRecord(row: Row): JsResultRecord {
  return {
    id: wireInteger(row.id as string),
    js_worker_id: wireInteger(row.js_worker_id as string),
    js_worker_name: row.js_worker_name as string,
    run_type: row.run_type as string,
    start_time: wireInteger(row.start_time as string | null),
    finish_time: wireInteger(row.finish_time as string | null),
    param: row.param ?? null,
    result: row.result ?? null,
    error_message: (row.error_message as string | null) ?? null,
  };
}

/** How each field of a record is read from its column (toRecord, unrolled, is the hot path). */
const FIELD_READERS: Record<keyof JsResultRecord, (value: unknown) => unknown> = {
  id: (v) => wireInteger(v as string),
  js_worker_id: (v) => wireInteger(v as string),
  js_worker_name: (v) => v,
  run_type: (v) => v,
  start_time: (v) => wireInteger(v as string | null),
  finish_time: (v) => wireInteger(v as string | null),
  param: (v) => v ?? null,
  result: (v) => v ?? null,
  error_message: (v) => v ?? null,
};

/** Only these fields of a row's record, in the order asked (`fields` on query and page). */
export function toProjectedRecord(row: Partial<Row>, fields: readonly (keyof JsResultRecord)[]): Partial<JsResultRecord> {
  const projected: Partial<Record<keyof JsResultRecord, unknown>> = {};
  for (const field of fields) projected[field] = FIELD_READERS[field](row[field]);
  return projected as Partial<JsResultRecord>;
}

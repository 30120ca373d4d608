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

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

/** A record's fields other than its values (param, result, error_message): what a row says of the run itself. */
export type RunFields = Pick<JsResultRecord, 'id' | 'js_worker_id' | 'js_worker_name' | 'run_type' | 'start_time' | 'finish_time'>;

/** The run fields of a row, integers as the driver gives them (decimal text for bigint). */
export function toRunFields(row: Partial<Row>): RunFields {
  return {
    id: wireInteger(row.id as string),
    js_worker_id: wireInteger(row.js_worker_id as string),
    js_worker_name: row.js_worker_name as string,
    run_type: row.run_type as string,
    start_time: wireInteger(row.start_time as string | null),
    finish_time: wireInteger(row.finish_time as string | null),
  };
}

export function toRecord(row: Row): JsResultRecord {
  return {
    ...toRunFields(row),
    param: row.param ?? null,
    result: row.result ?? null,
    error_message: (row.error_message as string | null) ?? null,
  };
}

/** A row whose `param` and `result` came as JSON text (`::text`); integers as the driver gives them. */
export type TextRow = Partial<Record<keyof JsResultRecord, string | number | bigint | null>>;

type Column = string | number | bigint | null | undefined;

// Integers are written as the exact decimal text the driver gave (pg: a string of digits; PGlite: number or BigInt).
const integerJson = (value: Column): string => (value === null || value === undefined ? 'null' : String(value));
const stringJson = (value: Column): string => (value === null || value === undefined ? 'null' : JSON.stringify(value));
const rawJson = (value: Column): string => (value === null || value === undefined ? 'null' : String(value));

const FIELD_JSON: Record<keyof JsResultRecord, (value: Column) => string> = {
  id: integerJson,
  js_worker_id: integerJson,
  js_worker_name: stringJson,
  run_type: stringJson,
  start_time: integerJson,
  finish_time: integerJson,
  param: rawJson,
  result: rawJson,
  error_message: stringJson,
};

function recordJson(row: TextRow): string {
  return (
    `{"id":${integerJson(row.id)},"js_worker_id":${integerJson(row.js_worker_id)},"js_worker_name":${stringJson(row.js_worker_name)},` +
    `"run_type":${stringJson(row.run_type)},"start_time":${integerJson(row.start_time)},"finish_time":${integerJson(row.finish_time)},` +
    `"param":${rawJson(row.param)},"result":${rawJson(row.result)},"error_message":${stringJson(row.error_message)}}`
  );
}

function projectedJson(row: TextRow, fields: readonly (keyof JsResultRecord)[]): string {
  let json = '{';
  for (let i = 0; i < fields.length; i++) json += `${i > 0 ? ',' : ''}"${fields[i]}":${FIELD_JSON[fields[i]](row[fields[i]])}`;
  return `${json}}`;
}

/**
 * Records as one JSON array text (of `fields` only, in the order asked, when
 * given), written straight from the rows: `param` and
 * `result` go in as the database wrote them, never parsed or serialised here
 * (on S1 that was 13 µs of a 15 µs reply, and most of its garbage).
 */
export function recordsJsonText(rows: readonly TextRow[], fields?: readonly (keyof JsResultRecord)[]): string {
  let json = '[';
  for (let i = 0; i < rows.length; i++) {
    if (i > 0) json += ',';
    json += fields === undefined ? recordJson(rows[i]) : projectedJson(rows[i], fields);
  }
  return `${json}]`;
}

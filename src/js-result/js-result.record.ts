import { type JsResultRecord, RECORD_COLUMNS, RECORD_FIELDS, type RecordColumn, RUN_FIELDS, type RunField } from './js-result.columns';

export type { JsResultRecord } from './js-result.columns';

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
export type RunFields = Pick<JsResultRecord, RunField>;

/** A column's value as the record has it: integers from the driver's form, an absent value as null. */
function wireValue(column: RecordColumn, value: unknown): unknown {
  if (column.json === 'integer') return wireInteger(value as string | null);
  return value ?? (column.nullable ? null : value);
}

/** The run fields of a row, integers as the driver gives them (decimal text for bigint). */
export function toRunFields(row: Partial<Row>): RunFields {
  const fields: Record<string, unknown> = {};
  for (const column of RUN_COLUMNS) fields[column.key] = wireValue(column, row[column.key]);
  return fields as RunFields;
}

const RUN_COLUMNS = RECORD_COLUMNS.filter((column) => (RUN_FIELDS as readonly string[]).includes(column.key));

export function toRecord(row: Row): JsResultRecord {
  const record: Record<string, unknown> = {};
  for (const column of RECORD_COLUMNS) record[column.key] = wireValue(column, row[column.key]);
  return record as JsResultRecord;
}

/** A row whose `param` and `result` came as JSON text (`::text`); integers as the driver gives them. */
export type TextRow = Partial<Record<keyof JsResultRecord, string | number | bigint | null>>;

type Column = string | number | bigint | null | undefined;

// Integers are written as the exact decimal text the driver gave (pg: a string of digits; PGlite: number or BigInt).
const integerJson = (value: Column): string => (value === null || value === undefined ? 'null' : String(value));
const stringJson = (value: Column): string => (value === null || value === undefined ? 'null' : JSON.stringify(value));
const rawJson = (value: Column): string => (value === null || value === undefined ? 'null' : String(value));

const WRITERS = { integer: integerJson, string: stringJson, json: rawJson } as const;

const FIELD_JSON = Object.fromEntries(RECORD_COLUMNS.map((column) => [column.key, WRITERS[column.json]])) as Record<
  keyof JsResultRecord,
  (value: Column) => string
>;

/**
 * One whole record's JSON, written in one expression over the declared
 * columns: compiled once from RECORD_COLUMNS, so the hot read path writes a
 * row as a hand-unrolled template would, with no loop or lookup per field.
 */
const recordJson = new Function(
  'writers',
  `return (row) => ${RECORD_FIELDS.map((field, i) => `'${i === 0 ? '{' : ','}"${field}":' + writers[${i}](row.${field})`).join(' + ')} + '}';`,
)(RECORD_FIELDS.map((field) => FIELD_JSON[field])) as (row: TextRow) => string;

function projectedJson(row: TextRow, fields: readonly (keyof JsResultRecord)[]): string {
  let json = '{';
  for (let i = 0; i < fields.length; i++) json += `${i > 0 ? ',' : ''}"${fields[i]}":${FIELD_JSON[fields[i]](row[fields[i]])}`;
  return `${json}}`;
}

/**
 * Records as one JSON array text (of `fields` only, in the order asked, when
 * given), written straight from the rows: `param` and
 * `result` go in as the database wrote them, never parsed or serialised here
 * (that was most of a short read's reply time and garbage: bench/README.md).
 */
export function recordsJsonText(rows: readonly TextRow[], fields?: readonly (keyof JsResultRecord)[]): string {
  let json = '[';
  for (let i = 0; i < rows.length; i++) {
    if (i > 0) json += ',';
    json += fields === undefined ? recordJson(rows[i]) : projectedJson(rows[i], fields);
  }
  return `${json}]`;
}

import type { JsResult } from './js-result.entity';

/**
 * The record's nine columns, declared once, in the order of the wire record:
 * the entity property, the key on the wire (also the column's name), how its
 * value is written as JSON, whether it may be NULL, and for the three values a
 * run makes large (param, result, error_message) the column where the
 * database keeps the size of its JSON text (see the AddJsResultTextBytes
 * migration; for error_message, a bound on it). Everything that lists the
 * record's columns (the fields a read may ask for, the columns a statement
 * selects, the JSON a row is written as, the run fields of an event) is
 * derived from this list.
 */
export const RECORD_COLUMNS = [
  { property: 'id', key: 'id', json: 'integer', nullable: false },
  { property: 'jsWorkerId', key: 'js_worker_id', json: 'integer', nullable: false },
  { property: 'jsWorkerName', key: 'js_worker_name', json: 'string', nullable: false },
  { property: 'runType', key: 'run_type', json: 'string', nullable: false },
  { property: 'startTime', key: 'start_time', json: 'integer', nullable: true },
  { property: 'finishTime', key: 'finish_time', json: 'integer', nullable: true },
  { property: 'param', key: 'param', json: 'json', nullable: true, textBytes: ['paramTextBytes', 'param_text_bytes'] },
  { property: 'result', key: 'result', json: 'json', nullable: true, textBytes: ['resultTextBytes', 'result_text_bytes'] },
  { property: 'errorMessage', key: 'error_message', json: 'string', nullable: true, textBytes: ['errorMessageTextBytes', 'error_message_text_bytes'] },
] as const satisfies readonly RecordColumnDeclaration[];

interface RecordColumnDeclaration {
  property: keyof JsResult;
  key: string;
  json: 'integer' | 'string' | 'json';
  nullable: boolean;
  textBytes?: readonly [keyof JsResult, string];
}

export type RecordColumn = (typeof RECORD_COLUMNS)[number];

/** A record field a read may be narrowed to (`fields`). */
export type RecordField = RecordColumn['key'];

/** Every record field, in the wire record's order. */
export const RECORD_FIELDS: readonly RecordField[] = RECORD_COLUMNS.map((column) => column.key);

type WireValue<C extends RecordColumn> = (C['json'] extends 'integer' ? number | bigint : C['json'] extends 'string' ? string : unknown) | (C['nullable'] extends true ? null : never);

/** A JsResult as it goes on the wire: exactly these nine keys, integers as JSON numbers. */
export type JsResultRecord = { [C in RecordColumn as C['key']]: WireValue<C> };

/** The columns whose size the database keeps: the values of a run, as opposed to what a row says of the run itself. */
export type ValueColumn = Extract<RecordColumn, { textBytes: unknown }>;
export type ValueField = ValueColumn['key'];
export type RunField = Exclude<RecordField, ValueField>;

export const VALUE_COLUMNS: readonly ValueColumn[] = RECORD_COLUMNS.filter((column): column is ValueColumn => 'textBytes' in column);
export const RUN_FIELDS: readonly RunField[] = RECORD_COLUMNS.filter((column) => !('textBytes' in column)).map((column) => column.key as RunField);

/** The column of each entity property the record has: raw SQL written beside the QueryBuilder names columns by it. */
export const COLUMN_OF = Object.fromEntries(RECORD_COLUMNS.map((column) => [column.property, column.key])) as Record<RecordColumn['property'], RecordField>;

import type { DataSource, ObjectLiteral, QueryBuilder, SelectQueryBuilder, WhereExpressionBuilder } from 'typeorm';
import { BoundedMap } from '../common/bounded-map';
import { JSON_AS_TEXT } from '../database/json-as-text';
import type { PreparedStatements } from '../database/prepared-statements';
import type { Statement } from '../database/statement';
import { type AuditAction, auditedText, auditValues } from '../audit/audit.statements';
import type { WorkerAccess } from '../token/auth';
import type { Filter } from './conditions/condition.types';
import { applyConditionTerms, type ConditionTerms, conditionValue, type TermBinding } from './conditions/condition.terms';
import { JsResult } from './js-result.entity';
import type { JsResultRecord } from './js-result.record';

export type { Statement } from '../database/statement';

/** Reads may be narrowed to worker names already known (distinct), instead of resolving them in SQL. */
export interface KnownWorkers {
  kind: 'workers';
  names: readonly string[];
}

/** Which workers a statement may touch. */
export type WorkerScope = WorkerAccess | KnownWorkers;

/** A restricted caller's exact names and the existing names under its prefixes, each once. */
export function knownWorkers(exactNames: readonly string[], prefixedNames: readonly string[]): KnownWorkers {
  // Distinct, or a worker reached twice (by name and by pattern) would give its rows twice.
  return { kind: 'workers', names: [...new Set([...exactNames, ...prefixedNames])] };
}

type ValuedFilter = Extract<Filter, { value: unknown }>;

/** Each condition as a WHERE term over entity properties; `p` names its parameter. */
const PREDICATES: ConditionTerms<Filter, keyof JsResult & string> = {
  // The casts keep the types the server sees the same whatever form a value is sent in.
  id: (c, p) => `${c('id')} = :${p}::bigint`,
  js_worker_id: (c, p) => `${c('jsWorkerId')} = :${p}::bigint`,
  js_worker_name: (c, p) => `${c('jsWorkerName')} = :${p}`,
  run_type: (c, p) => `${c('runType')} = :${p}`,
  start_time_from: (c, p) => `${c('startTime')} >= :${p}::bigint`,
  start_time_to: (c, p) => `${c('startTime')} <= :${p}::bigint`,
  finish_time_from: (c, p) => `${c('finishTime')} >= :${p}::bigint`,
  finish_time_to: (c, p) => `${c('finishTime')} <= :${p}::bigint`,
  // TypeORM joins terms with AND as written, so compound terms bring their own parentheses.
  is_success: (c) => `(${c('result')} IS NOT NULL AND ${c('errorMessage')} IS NULL)`,
  is_failure: (c) => `${c('errorMessage')} IS NOT NULL`,
  is_running: (c) => `(${c('result')} IS NULL AND ${c('errorMessage')} IS NULL)`,
};

/** A condition's value as a parameter: 64-bit integers as decimal text, so none is rounded on the way. */
function filterValue(filter: ValuedFilter): string {
  return conditionValue(filter) as string;
}

export type FilterBinding = TermBinding<Filter>;

/**
 * Adds every condition to the builder's WHERE (AND), each value as the bound
 * parameter `f<index>` (the shared applyConditionTerms, with js-result's terms).
 */
export function applyFilters<Q extends WhereExpressionBuilder>(qb: Q, filters: readonly Filter[], binding: FilterBinding = {}): Q {
  return applyConditionTerms(qb, filters, PREDICATES, binding);
}

/**
 * Where a shape's parameter takes its value from: the shape is built once with
 * these in place of values, and TypeORM's placeholder order is read off them.
 */
class Slot {
  constructor(readonly index: number) {}
}

/** A call's values go into one array in this order, so every shape's slots index the same layout. */
const LIMIT = 0;
const NAMES = 1;
const PREFIXES = 2;
const AFTER_START = 3;
const AFTER_ID = 4;
const CAP = 5;
const SHARE = 6;
const FIRST_FILTER = 7;

const SCOPE_SLOTS: ObjectLiteral = { limit: new Slot(LIMIT), names: new Slot(NAMES), prefixes: new Slot(PREFIXES) };
const AFTER_SLOTS: ObjectLiteral = { afterStart: new Slot(AFTER_START), afterId: new Slot(AFTER_ID) };
const filterSlot = (_filter: ValuedFilter, index: number) => new Slot(FIRST_FILTER + index);

function callArguments(
  filters: readonly Filter[],
  limit?: number,
  names?: readonly string[],
  prefixes?: readonly string[],
  after?: PageKey,
  cap?: number,
  share?: number,
) {
  const args: unknown[] = [limit, names, prefixes, after?.startTime ?? undefined, after?.id, cap, share];
  for (const filter of filters) args.push('value' in filter ? filterValue(filter) : undefined);
  return args;
}

/**
 * Where a page walk stands: the (start_time, id) of the last record it
 * returned, as decimal text so 64-bit values stay exact. The walk goes on
 * with what comes after it in the order of every read: start_time DESC
 * (NULL, not started, first), then id DESC.
 */
export interface PageKey {
  startTime: string | null;
  id: string;
}

/** The keyset term for rows after `after`: one text per kind of key, so each stays an index range. */
type AfterKind = 'start' | 'after' | 'after-unstarted';

const afterKind = (after: PageKey | undefined): AfterKind =>
  after === undefined ? 'start' : after.startTime === null ? 'after-unstarted' : 'after';

const AFTER_TERMS: Record<Exclude<AfterKind, 'start'>, string> = {
  // A row comparison is one range of the (start_time DESC, id DESC) indexes; NULL start times sort first, so none follow.
  after: '(j.startTime, j.id) < (:afterStart::bigint, :afterId::bigint)',
  'after-unstarted': '((j.startTime IS NULL AND j.id < :afterId::bigint) OR j.startTime IS NOT NULL)',
};

/** The record fields a read may be narrowed to (`fields`); undefined means all nine. */
export type RecordField = keyof JsResultRecord;

const fieldsKey = (fields: readonly RecordField[] | undefined) => (fields === undefined ? '*' : fields.join('|'));

/** A statement text, and for each of its placeholders $1, $2, … the call argument that fills it. */
interface Shape {
  text: string;
  slots: readonly number[];
}

function toShape(qb: QueryBuilder<ObjectLiteral>): Shape {
  const [text, parameters] = qb.getQueryAndParameters();
  const slots = parameters.map((parameter) => {
    if (parameter instanceof Slot) return parameter.index;
    throw new Error(`a statement shape was built with the value ${String(parameter)}: every call would reuse it`);
  });
  return { text, slots };
}

function fill(shape: Shape, args: readonly unknown[]): Statement {
  const values = new Array<unknown>(shape.slots.length);
  for (let i = 0; i < values.length; i++) values[i] = args[shape.slots[i]];
  return { text: shape.text, values };
}

function shapeKey(form: string, scope: string, filters: readonly Filter[]): string {
  let key = `${form}:${scope}`;
  for (const filter of filters) key += `,${filter.kind}`;
  return key;
}

/** Entity properties and the names they are selected as. */
type ColumnList<Name extends string = string> = readonly (readonly [keyof JsResult, Name])[];

/** The wire record's keys, in order, and the properties they come from. */
const RECORD_COLUMNS: ColumnList<RecordField> = [
  ['id', 'id'],
  ['jsWorkerId', 'js_worker_id'],
  ['jsWorkerName', 'js_worker_name'],
  ['runType', 'run_type'],
  ['startTime', 'start_time'],
  ['finishTime', 'finish_time'],
  ['param', 'param'],
  ['result', 'result'],
  ['errorMessage', 'error_message'],
];

/** What a limited delete or count needs of the rows it chooses: the id, and the order. */
const CHOSEN_COLUMNS: ColumnList = [
  ['id', 'id'],
  ['startTime', 'start_time'],
];

/**
 * The columns a read fetches for these fields: those asked for, and always
 * start_time and id, which order the rows and position a page walk. The heavy
 * `param` and `result` are not read unless asked for.
 */
function columnsFor(fields: readonly RecordField[] | undefined): ColumnList<RecordField> {
  if (fields === undefined) return RECORD_COLUMNS;
  return RECORD_COLUMNS.filter(([, key]) => key === 'id' || key === 'start_time' || fields.includes(key));
}

/** One record as JSON text: the whole row, or only `fields`, in the order asked. */
function jsonElementOf(fields: readonly RecordField[] | undefined): string {
  if (fields === undefined) return 'row_to_json(r)::text';
  return `json_build_object(${fields.map((field) => `'${field}', r.${field}`).join(', ')})::text`;
}

/**
 * How a read's rows come: one JSON array text (for a page, with where it
 * ends), row objects, or row objects with `param` and `result` as JSON text
 * (the driver is asked not to parse them: see JSON_AS_TEXT).
 */
type SelectForm = 'json' | 'page-json' | 'rows' | 'text';

/**
 * The columns of a text row held to a share of the budget, and the column
 * where the database keeps each one's size as the JSON text it would send
 * (see the AddJsResultTextBytes migration; for error_message, a bound on it).
 * These are what a worker's run makes large (a result or an error message of
 * any size, a param of exact numbers such as 1e400, 22 bytes stored and 403
 * as text). Not measured: the integers, js_worker_name (under 3 KB: the
 * worker-name index holds it) and run_type (set by the writers from a short
 * list of kinds).
 */
const GATED: Partial<Record<RecordField, readonly [keyof JsResult, string]>> = {
  param: ['paramTextBytes', 'param_text_bytes'],
  result: ['resultTextBytes', 'result_text_bytes'],
  error_message: ['errorMessageTextBytes', 'error_message_text_bytes'],
};

/** The sizes are int4: a share is compared as one, so the statement keeps its plain integer comparison. */
const MAX_SHARE = 2 ** 31 - 1;

/** The gated columns a text row of these fields has. */
const gatedKeys = (fields: readonly RecordField[] | undefined): RecordField[] =>
  columnsFor(fields)
    .map(([, key]) => key)
    .filter((key) => GATED[key] !== undefined);

/**
 * The most bytes each gated value of a text read may have for its rows to
 * come at all: the allowance split evenly over every gated value of `rows`
 * rows, so the values that come hold at most `allowance` bytes together.
 */
export function valueShare(allowance: number, rows: number, fields?: readonly RecordField[]): number {
  const values = rows * gatedKeys(fields).length;
  return Math.min(MAX_SHARE, values === 0 ? allowance : Math.floor(allowance / values));
}

/**
 * Whether the database withheld a value of this text row for being over its
 * share: it sends NULL in its place, and `nulls` counts the NULLs the row
 * really has in those columns, so a NULL more than that is a value withheld.
 */
export function withheld(row: Readonly<Record<string, unknown>>): boolean {
  if (row.nulls === undefined) return false;
  let received = 0;
  for (const key of Object.keys(GATED)) if (key in row && row[key] === null) received++;
  return received > Number(row.nulls);
}

/** The reply's order: newest first, not-started rows first. */
const NEWEST_FIRST = 'start_time DESC NULLS FIRST, id DESC';

/**
 * Each chosen row's JSON element, and `running`: the bytes of the array up to
 * and including it (each element and the comma or bracket before it).
 */
const measuredElements = (fields: readonly RecordField[] | undefined, chosen: string) =>
  `SELECT e.*, sum(octet_length(e.element) + 1) OVER (ORDER BY ${NEWEST_FIRST}) AS running ` +
  `FROM (SELECT r.start_time, r.id, ${jsonElementOf(fields)} AS element FROM (${chosen}) r) e`;

/**
 * The rows as one JSON array text in the reply's order ('[]' when there are
 * none), or NULL when the array would be longer than `:cap` bytes: then only
 * `bytes`, the length it would have had, is sent. The database stops adding
 * elements at the cap, so neither it nor this process ever holds more of it.
 */
const CAPPED_JSON_ARRAY =
  "CASE WHEN coalesce(max(m.running), 1) + 1 <= :cap::float8 THEN coalesce('[' || " +
  "string_agg(m.element, ',' ORDER BY m.start_time DESC NULLS FIRST, m.id DESC) FILTER (WHERE m.running < :cap::float8) || ']', '[]') END";
const ARRAY_BYTES = '(coalesce(max(m.running), 1) + 1)::float8';

/**
 * measuredElements for a page read one row past its end (`:limit` is the
 * page size + 1): `n` numbers the rows, so the page is the rows before the
 * last and the row past it only tells that more follow.
 */
const numberedElements = (fields: readonly RecordField[] | undefined, chosen: string) =>
  'SELECT e.*, sum(octet_length(e.element) + 1) OVER newest AS running, count(*) OVER newest AS n ' +
  `FROM (SELECT r.start_time, r.id, ${jsonElementOf(fields)} AS element FROM (${chosen}) r) e WINDOW newest AS (ORDER BY ${NEWEST_FIRST})`;

const IN_PAGE = 'm.n < :limit::bigint';
/** CAPPED_JSON_ARRAY and ARRAY_BYTES of the page's rows; `rows` (all, the one past the page too) and the page's last position as text. */
const CAPPED_PAGE_ARRAY =
  `CASE WHEN coalesce(max(m.running) FILTER (WHERE ${IN_PAGE}), 1) + 1 <= :cap::float8 THEN coalesce('[' || ` +
  `string_agg(m.element, ',' ORDER BY m.start_time DESC NULLS FIRST, m.id DESC) FILTER (WHERE ${IN_PAGE} AND m.running < :cap::float8) || ']', '[]') END`;
const PAGE_BYTES = `(coalesce(max(m.running) FILTER (WHERE ${IN_PAGE}), 1) + 1)::float8`;
const PAGE_END_START = '(max(m.start_time) FILTER (WHERE m.n = :limit::bigint - 1))::text';
const PAGE_END_ID = '(max(m.id) FILTER (WHERE m.n = :limit::bigint - 1))::text';

/**
 * `prefixed(prefix, name)`: every existing worker name under each prefix,
 * found by a skip scan over the worker-name index: one probe per distinct name
 * instead of a pass over the table. It relies on the column's byte-order ("C")
 * collation, under which all names sharing a prefix are adjacent, so the walk
 * stops at the first name past it. The last row of each walk is that first
 * name past the prefix; readers filter it out.
 */
const PREFIXED_NAMES = `SELECT p.prefix, (SELECT min(n.js_worker_name) FROM js_result n WHERE n.js_worker_name >= p.prefix)
    FROM unnest(:prefixes::text[]) AS p(prefix)
    UNION ALL
    SELECT w.prefix, (SELECT min(n.js_worker_name) FROM js_result n WHERE n.js_worker_name > w.name)
    FROM prefixed w WHERE starts_with(w.name, w.prefix)`;

/** `allowed(name)`: the worker names a restricted caller may touch, resolved inside the statement. */
const ALLOWED_NAMES = 'SELECT name FROM prefixed WHERE starts_with(name, prefix) UNION SELECT unnest(:names::text[])';

function withAllowedWorkers<Q extends QueryBuilder<ObjectLiteral>>(qb: Q): Q {
  return qb
    .addCommonTableExpression(PREFIXED_NAMES, 'prefixed', { recursive: true, columnNames: ['prefix', 'name'] })
    .addCommonTableExpression(ALLOWED_NAMES, 'allowed', { columnNames: ['name'] });
}

/**
 * A text row's column: a gated one is NULL when over `:share`, so the values
 * that come are bounded before they are sent (see valueShare).
 */
function textColumn(key: RecordField): string {
  const size = GATED[key];
  return size === undefined ? `r.${key}` : `CASE WHEN r.${size[1]} <= :share::int THEN r.${key} END`;
}

/** The size columns a text read of these fields selects beside the record's columns, for textColumn. */
const sizeColumns = (fields: readonly RecordField[] | undefined): ColumnList =>
  gatedKeys(fields).map((key) => GATED[key] as readonly [keyof JsResult, string]);

/** TypeORM writes LIMIT as a literal; here it is the parameter `:limit`, so one text serves every limit. */
const limited = (qb: SelectQueryBuilder<JsResult>) => `${qb.getQuery()} LIMIT :limit`;

/**
 * One short newest-first list per worker, merged: the cost follows the workers
 * and the limit, not the table. TypeORM has no LATERAL join, hence the text.
 */
const mergedPerWorker = (workers: string, perWorker: string) =>
  `SELECT w.* FROM ${workers} CROSS JOIN LATERAL (${perWorker}) w ORDER BY w.start_time DESC, w.id DESC LIMIT :limit`;

const KNOWN_WORKERS = 'unnest(:names::text[]) AS a(name)';
const ALLOWED_WORKERS = 'allowed a';

interface Fragment {
  sql: string;
  parameters: ObjectLiteral;
}

/** Shapes kept; beyond them the least recently built is built again when next used. */
export const MAX_SHAPES = 500;

/**
 * The js_result statements, built with TypeORM's QueryBuilder once per shape
 * and reused. A shape's text depends only on which conditions appear (kinds,
 * order, count), the scope's kind and the statement's form, never on values:
 * it is built with slot markers for values, TypeORM's placeholder order is
 * read once, and a call only looks the shape up and fills its values in.
 * Texts are registered as named statements, parsed once per connection.
 */
export class JsResultStatements {
  private readonly shapes: BoundedMap<string, Shape>;

  constructor(
    private readonly dataSource: DataSource,
    private readonly registry?: PreparedStatements,
    capacity = MAX_SHAPES,
  ) {
    this.shapes = new BoundedMap(capacity);
  }

  /**
   * The newest `limit` matching rows the scope allows, as one row `{ json, bytes }`:
   * a JSON array text of wire records (of `fields` only, if given) and its
   * length in bytes; `json` is null when that length is above `cap`.
   */
  selectJson(filters: readonly Filter[], scope: WorkerScope, limit: number, fields?: readonly RecordField[], cap = Number.MAX_SAFE_INTEGER): Statement {
    return this.select('json', filters, scope, limit, fields, undefined, cap);
  }

  /**
   * The same rows as selectJson, one database row each: the record columns in
   * order (with `fields`, those and start_time and id), `param` and `result`
   * as jsonb. The service reads selectTextRows; this form is how a
   * hand-written server reads them (the benchmark's bare server, the predicate tests).
   */
  selectRows(filters: readonly Filter[], scope: WorkerScope, limit: number, fields?: readonly RecordField[]): Statement {
    return this.select('rows', filters, scope, limit, fields);
  }

  /**
   * selectRows with `param` and `result` as their JSON text (the driver is
   * told not to parse them, see JSON_AS_TEXT): the reply takes them as they
   * are, so they are neither parsed nor written again here (see recordsJsonText).
   */
  selectTextRows(filters: readonly Filter[], scope: WorkerScope, limit: number, fields?: readonly RecordField[], share = MAX_SHARE): Statement {
    return this.select('text', filters, scope, limit, fields, undefined, undefined, share);
  }

  /**
   * One page of a walk: the first `size` matching rows after `after` (from
   * the newest when absent), as selectTextRows gives them. Keyset, not offset: a
   * page deep into the walk starts with an index range just as the first
   * does. Worker names are resolved inside the statement, so a worker that
   * existed when the walk began is never missed through a cached list.
   */
  page(
    filters: readonly Filter[],
    access: WorkerAccess,
    after: PageKey | undefined,
    size: number,
    fields?: readonly RecordField[],
    share = MAX_SHARE,
  ): Statement {
    return this.select('text', filters, access, size, fields, after, undefined, share);
  }

  /**
   * The rows `page` reads (`size` is the page size + 1), as one row
   * `{ json, bytes, rows, last_start, last_id }`: the JSON array of the page's
   * records and its length, as selectJson gives them (`json` null above
   * `cap`); how many rows matched, the one past the page included; and the
   * position of the page's last row, as text.
   */
  pageJson(filters: readonly Filter[], access: WorkerAccess, after: PageKey | undefined, size: number, fields: readonly RecordField[] | undefined, cap: number): Statement {
    return this.select('page-json', filters, access, size, fields, after, cap);
  }

  /**
   * One row `{ count }`: how many rows a delete with the same conditions and
   * limit would delete. Without a limit it is a plain count over the
   * filters, an index range when a worker is named; names are resolved
   * inside the statement, as a delete does.
   */
  count(filters: readonly Filter[], access: WorkerAccess, limit: number | undefined): Statement {
    const form = limit === undefined ? 'count' : 'count-newest';
    const shape = this.shape(shapeKey(form, access.kind, filters), () => this.buildCount(filters, access.kind, limit !== undefined));
    const [names, prefixes] = access.kind === 'some' ? [access.names, access.prefixes] : [];
    return fill(shape, callArguments(filters, limit, names, prefixes));
  }

  /**
   * Deletes exactly what a select would choose, in one statement, so it is all
   * or nothing: with a limit the newest `limit` matches, without one every
   * match. Worker names are resolved inside the statement, never cached. The
   * same statement writes the audit entry when it deleted rows, and answers
   * one row `{ affected }`.
   */
  delete(filters: readonly Filter[], access: WorkerAccess, limit: number | undefined, action: AuditAction): Statement {
    const form = limit === undefined ? 'delete' : 'delete-newest';
    const shape = this.shape(
      shapeKey(form, access.kind, filters),
      () => this.buildDelete(filters, access.kind, limit !== undefined),
      (text, placeholders) => auditedText(text, placeholders, 'count'),
    );
    const [names, prefixes] = access.kind === 'some' ? [access.names, access.prefixes] : [];
    const statement = fill(shape, callArguments(filters, limit, names, prefixes));
    statement.values.push(...auditValues(action));
    return statement;
  }

  /** The existing worker names under any of the prefixes, one row `{ name }` each. */
  workerNames(prefixes: readonly string[]): Statement {
    const shape = this.shape('worker-names', () => this.buildWorkerNames());
    return fill(shape, callArguments([], undefined, undefined, prefixes));
  }

  private select(
    form: SelectForm,
    filters: readonly Filter[],
    scope: WorkerScope,
    limit: number,
    fields?: readonly RecordField[],
    after?: PageKey,
    cap?: number,
    share?: number,
  ): Statement {
    const kind = afterKind(after);
    const key = `${shapeKey(form, scope.kind, filters)};${fieldsKey(fields)};${kind}`;
    const shape = this.shape(
      key,
      () => this.buildSelect(form, filters, scope.kind, fields, kind),
      form === 'text' ? (text) => JSON_AS_TEXT + text : undefined,
    );
    const prefixes = scope.kind === 'some' ? scope.prefixes : undefined;
    const names = scope.kind === 'all' ? undefined : scope.names;
    return fill(shape, callArguments(filters, limit, names, prefixes, after, cap, share));
  }

  /** `finish` rewrites the built text once (its placeholder count given), before it is registered. */
  private shape(
    key: string,
    build: () => QueryBuilder<ObjectLiteral>,
    finish?: (text: string, placeholders: number) => string,
  ): Shape {
    let shape = this.shapes.get(key);
    if (shape === undefined) {
      shape = toShape(build());
      if (finish) shape = { ...shape, text: finish(shape.text, shape.slots.length) };
      this.registry?.register(shape.text);
      this.shapes.set(key, shape);
    }
    return shape;
  }

  private buildSelect(
    form: SelectForm,
    filters: readonly Filter[],
    scope: WorkerScope['kind'],
    fields: readonly RecordField[] | undefined,
    after: AfterKind,
  ): QueryBuilder<ObjectLiteral> {
    const columns = form === 'text' ? [...columnsFor(fields), ...sizeColumns(fields)] : columnsFor(fields);
    const chosen = this.chosenRows(filters, scope, columns, after);
    const qb = this.dataSource.createQueryBuilder().setParameters({ ...chosen.parameters, ...SCOPE_SLOTS });
    if (form === 'json') {
      qb.select(CAPPED_JSON_ARRAY, 'json')
        .addSelect(ARRAY_BYTES, 'bytes')
        .from(`(${measuredElements(fields, chosen.sql)})`, 'm')
        .setParameter('cap', new Slot(CAP));
    } else if (form === 'page-json') {
      qb.select(CAPPED_PAGE_ARRAY, 'json')
        .addSelect(PAGE_BYTES, 'bytes')
        .addSelect('count(*)', 'rows')
        .addSelect(PAGE_END_START, 'last_start')
        .addSelect(PAGE_END_ID, 'last_id')
        .from(`(${numberedElements(fields, chosen.sql)})`, 'm')
        .setParameter('cap', new Slot(CAP));
    } else if (form === 'text') {
      const [first, ...rest] = columnsFor(fields).map(([, key]) => key);
      qb.select(textColumn(first), first).from(`(${chosen.sql})`, 'r');
      for (const key of rest) qb.addSelect(textColumn(key), key);
      const gated = gatedKeys(fields);
      if (gated.length > 0) qb.addSelect(`num_nulls(${gated.map((key) => `r.${key}`).join(', ')})`, 'nulls').setParameter('share', new Slot(SHARE));
    } else {
      qb.select('r.*').from(`(${chosen.sql})`, 'r');
    }
    return scope === 'some' ? withAllowedWorkers(qb) : qb;
  }

  private buildCount(filters: readonly Filter[], scope: WorkerAccess['kind'], newestOnly: boolean): QueryBuilder<ObjectLiteral> {
    let qb: SelectQueryBuilder<ObjectLiteral>;
    if (newestOnly) {
      const chosen = this.chosenRows(filters, scope, CHOSEN_COLUMNS);
      qb = this.dataSource.createQueryBuilder().select('count(*)', 'count').from(`(${chosen.sql})`, 'chosen').setParameters(chosen.parameters);
    } else {
      qb = this.dataSource.createQueryBuilder(JsResult, 'j').select('count(*)', 'count');
      if (scope === 'some') qb.where('j.jsWorkerName IN (SELECT name FROM allowed)');
      applyFilters(qb, filters, { alias: 'j', bind: filterSlot });
    }
    qb.setParameters(SCOPE_SLOTS);
    return scope === 'some' ? withAllowedWorkers(qb) : qb;
  }

  private buildDelete(filters: readonly Filter[], scope: WorkerAccess['kind'], newestOnly: boolean): QueryBuilder<ObjectLiteral> {
    // The ids feed the audit wrapper's count (see delete).
    const qb = this.dataSource.createQueryBuilder().delete().from(JsResult).returning('id').setParameters(SCOPE_SLOTS);
    if (scope === 'some') withAllowedWorkers(qb);
    if (newestOnly) {
      const chosen = this.chosenRows(filters, scope, CHOSEN_COLUMNS);
      return qb.where(`id IN (SELECT chosen.id FROM (${chosen.sql}) chosen)`, chosen.parameters);
    }
    if (scope === 'some') qb.where('jsWorkerName IN (SELECT name FROM allowed)');
    return applyFilters(qb, filters, { bind: filterSlot });
  }

  private buildWorkerNames(): QueryBuilder<ObjectLiteral> {
    return this.dataSource
      .createQueryBuilder()
      .addCommonTableExpression(PREFIXED_NAMES, 'prefixed', { recursive: true, columnNames: ['prefix', 'name'] })
      .select('found.name', 'name')
      .distinct(true)
      .from('prefixed', 'found')
      .where('starts_with(found.name, found.prefix)')
      .setParameters(SCOPE_SLOTS);
  }

  /**
   * The newest `:limit` matching rows in the scope, newest first. For a
   * restricted scope each worker contributes its own newest rows through the
   * worker-name index, and those short lists are merged.
   */
  private chosenRows(filters: readonly Filter[], scope: WorkerScope['kind'], columns: ColumnList, after: AfterKind = 'start'): Fragment {
    if (scope === 'all') {
      const qb = this.newestMatching(filters, columns, after);
      return { sql: limited(qb), parameters: qb.getParameters() };
    }
    const perWorker = this.newestMatching(filters, columns, after, 'j.jsWorkerName = a.name');
    const workers = scope === 'workers' ? KNOWN_WORKERS : ALLOWED_WORKERS;
    return { sql: mergedPerWorker(workers, limited(perWorker)), parameters: perWorker.getParameters() };
  }

  private newestMatching(filters: readonly Filter[], columns: ColumnList, after: AfterKind, workerTerm?: string): SelectQueryBuilder<JsResult> {
    const qb = this.dataSource.createQueryBuilder(JsResult, 'j').select([]);
    for (const [property, key] of columns) qb.addSelect(`j.${property}`, key);
    if (workerTerm) qb.where(workerTerm);
    if (after !== 'start') qb.andWhere(AFTER_TERMS[after], AFTER_SLOTS);
    applyFilters(qb, filters, { alias: 'j', bind: filterSlot });
    // DESC puts NULL start times first: not-started rows are the newest.
    return qb.orderBy('j.startTime', 'DESC').addOrderBy('j.id', 'DESC');
  }
}

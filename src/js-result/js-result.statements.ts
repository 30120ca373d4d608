import type { DataSource, ObjectLiteral, QueryBuilder, SelectQueryBuilder, WhereExpressionBuilder } from 'typeorm';
import { type AuditAction, auditedText, auditValues } from '../database/audited-change';
import { JSON_AS_TEXT } from '../database/json-as-text';
import { declareCursorText } from '../database/row-cursor';
import type { Statement } from '../database/statement';
import { fill, type FinishText, type Shape, Slot, StatementShapes, type TextRegistry } from '../database/statement-shapes';
import type { WorkerAccess } from '../token/auth';
import type { Filter } from './conditions/condition.types';
import { applyConditionTerms, type ConditionTerms, conditionValue, type TermBinding } from './conditions/condition.terms';
import { RECORD_COLUMNS, type RecordColumn, type RecordField, VALUE_COLUMNS } from './js-result.columns';
import { JsResult } from './js-result.entity';
import { OUTCOMES } from './js-result.outcomes';
import {
  ARRAY_BYTES,
  CAPPED_JSON_ARRAY,
  CAPPED_PAGE_ARRAY,
  LISTED_NAMES_FROM,
  measuredElements,
  mergedPerWorker,
  numberedElements,
  PAGE_BYTES,
  PAGE_END_ID,
  PAGE_END_START,
  PATTERN_NAMES,
  PREFIXED_NAMES,
  RESOLVED_NAMES_FROM,
  streamedElements,
  withLimit,
} from './js-result.sql';
import { afterKeyTerm, type RowKey } from './row-key';

export type { Statement } from '../database/statement';
export type { RecordField } from './js-result.columns';

/**
 * A read narrowed to worker names this process listed beforehand (distinct),
 * instead of resolving the caller's patterns in SQL: the names are bound as
 * an array, and nothing about them is looked up by the statement.
 */
export interface ListedNamesScope {
  kind: 'listed-names';
  names: readonly string[];
}

/**
 * Which workers a statement may touch: every worker (`all`), the workers a
 * caller's patterns reach, resolved inside the statement from its exact names
 * and prefixes (WorkerAccess's `patterns`: never stale, what deletes, counts and
 * pages use), or names listed beforehand (ListedNamesScope: what short reads use,
 * from the worker-names cache).
 */
export type WorkerScope = WorkerAccess | ListedNamesScope;

/** A caller's worker patterns (WorkerAccess `patterns`): the names they reach are resolved inside the statement. */
export type PatternScope = Extract<WorkerAccess, { kind: 'patterns' }>;

/**
 * How a statement finds its workers, as its shapes are keyed and built:
 * `every-worker` (no worker term), `resolved-patterns` (the names a caller's
 * exact names and prefixes reach, found by the statement itself through the
 * worker-name index, so never stale) or `listed-names` (an array of names the
 * caller listed beforehand, nothing looked up).
 */
type ScopeKind = 'every-worker' | 'resolved-patterns' | 'listed-names';

const SCOPE_KINDS: Record<WorkerScope['kind'], ScopeKind> = { all: 'every-worker', patterns: 'resolved-patterns', 'listed-names': 'listed-names' };

/** A restricted caller's exact names and the existing names under its prefixes, each once, as a listed scope. */
export function distinctNames(exactNames: readonly string[], prefixedNames: readonly string[]): ListedNamesScope {
  // Distinct, or a worker reached twice (by name and by pattern) would give its rows twice.
  return { kind: 'listed-names', names: [...new Set([...exactNames, ...prefixedNames])] };
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
  is_success: (c) => OUTCOMES.succeeded.sql(c),
  is_failure: (c) => OUTCOMES.failed.sql(c),
  is_running: (c) => OUTCOMES.running.sql(c),
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
  after?: RowKey,
  cap?: number,
  share?: number,
) {
  const args: unknown[] = [limit, names, prefixes, after?.startTime ?? undefined, after?.id, cap, share];
  for (const filter of filters) args.push('value' in filter ? filterValue(filter) : undefined);
  return args;
}

/** The keyset term for rows after a page's key: one text per kind of key (see afterKeyTerm), none on the first page. */
type AfterKind = 'start' | 'after' | 'after-unstarted';

const afterKind = (after: RowKey | undefined): AfterKind =>
  after === undefined ? 'start' : after.startTime === null ? 'after-unstarted' : 'after';

const AFTER_TERMS: Record<Exclude<AfterKind, 'start'>, string> = {
  after: afterKeyTerm({ startTime: '' }, { startTime: 'j.startTime', id: 'j.id' }, { startTime: ':afterStart::bigint', id: ':afterId::bigint' }),
  'after-unstarted': afterKeyTerm({ startTime: null }, { startTime: 'j.startTime', id: 'j.id' }, { startTime: ':afterStart::bigint', id: ':afterId::bigint' }),
};

const fieldsKey = (fields: readonly RecordField[] | undefined) => (fields === undefined ? '*' : fields.join('|'));

function shapeKey(form: string, scope: string, filters: readonly Filter[]): string {
  let key = `${form}:${scope}`;
  for (const filter of filters) key += `,${filter.kind}`;
  return key;
}

/** Entity properties and the names they are selected as. */
type ColumnList = readonly (readonly [keyof JsResult, string])[];

const asSelected = (columns: readonly RecordColumn[]): ColumnList => columns.map((column) => [column.property, column.key] as const);

/** What a limited delete or count needs of the rows it chooses: the id, and the order. */
const CHOSEN_COLUMNS: ColumnList = asSelected(RECORD_COLUMNS.filter((column) => column.key === 'id' || column.key === 'start_time'));

/**
 * The record columns a read fetches for these fields: those asked for, and
 * always start_time and id, which order the rows and position a page walk.
 * The heavy `param` and `result` are not read unless asked for.
 */
function columnsFor(fields: readonly RecordField[] | undefined): readonly RecordColumn[] {
  if (fields === undefined) return RECORD_COLUMNS;
  return RECORD_COLUMNS.filter(({ key }) => key === 'id' || key === 'start_time' || fields.includes(key));
}

/**
 * How a read's rows come: one JSON array text (for a page, with where it
 * ends), or row objects with `param` and `result` as JSON text (the driver is
 * asked not to parse them: see JSON_AS_TEXT). Forms other code builds on the
 * same chosen rows (bench and tests read plain rows) extend this list.
 */
export type SelectForm = 'json' | 'page-json' | 'text' | StreamForm;

/** The forms read through a cursor, a batch of elements at a time (see streamedElements). */
export type StreamForm = 'json-stream' | 'page-stream';

const isStreamForm = (form: string): form is StreamForm => form === 'json-stream' || form === 'page-stream';

/**
 * The value columns of a text row held to a share of the budget (each with
 * the column where the database keeps its size, see RECORD_COLUMNS): what a
 * worker's run makes large (a result or an error message of any size, a
 * param of exact numbers such as 1e400, 22 bytes stored and 403 as text).
 * Not measured: the integers, js_worker_name (under 3 KB: the worker-name
 * index holds it) and run_type (set by the writers from a short list of kinds).
 */
const GATED = new Map(VALUE_COLUMNS.map((column) => [column.key as RecordField, column.textBytes]));

/** The sizes are int4: a share is compared as one, so the statement keeps its plain integer comparison. */
const MAX_SHARE = 2 ** 31 - 1;

/** The gated columns a text row of these fields has. */
const gatedKeys = (fields: readonly RecordField[] | undefined): RecordField[] =>
  columnsFor(fields)
    .map(({ key }) => key)
    .filter((key) => GATED.has(key));

/**
 * The most bytes each gated value of a text read may have for its rows to
 * come at all: the allowance split evenly over every gated value of `rows`
 * rows, so the values that come hold at most `allowance` bytes together.
 */
export function valueShare(allowance: number, rows: number, fields?: readonly RecordField[]): number {
  const values = rows * gatedKeys(fields).length;
  return Math.min(MAX_SHARE, values === 0 ? allowance : Math.floor(allowance / values));
}

const GATED_KEYS = [...GATED.keys()];

/**
 * Whether the database withheld a value of this text row for being over its
 * share: it sends NULL in its place, and `nulls` counts the NULLs the row
 * really has in those columns, so a NULL more than that is a value withheld.
 */
export function withheld(row: Readonly<Record<string, unknown>>): boolean {
  if (row.nulls === undefined) return false;
  let received = 0;
  for (const key of GATED_KEYS) if (key in row && row[key] === null) received++;
  return received > Number(row.nulls);
}

function withScopeNames<Q extends QueryBuilder<ObjectLiteral>>(qb: Q): Q {
  return qb
    .addCommonTableExpression(PREFIXED_NAMES, 'prefixed', { recursive: true, columnNames: ['prefix', 'name'] })
    .addCommonTableExpression(PATTERN_NAMES, 'allowed', { columnNames: ['name'] });
}

/**
 * A text row's column: a gated one is NULL when over `:share`, so the values
 * that come are bounded before they are sent (see valueShare).
 */
function textColumn(key: RecordField): string {
  const size = GATED.get(key);
  return size === undefined ? `r.${key}` : `CASE WHEN r.${size[1]} <= :share::int THEN r.${key} END`;
}

/** The size columns a text read of these fields selects beside the record's columns, for textColumn. */
const sizeColumns = (fields: readonly RecordField[] | undefined): ColumnList =>
  gatedKeys(fields).map((key) => GATED.get(key) as readonly [keyof JsResult, string]);

/** A statement part with its parameters (slots), to be composed into a builder. */
export interface Fragment {
  sql: string;
  parameters: ObjectLiteral;
}

/** Shapes kept; beyond them the least recently built is built again when next used. */
export const MAX_SHAPES = 500;

/**
 * The js_result statements, built with TypeORM's QueryBuilder once per shape
 * and reused (StatementShapes). A shape's text depends only on which
 * conditions appear (kinds, order, count), the scope's kind and the
 * statement's form, never on values. Texts are registered as named
 * statements, parsed once per connection.
 */
export class JsResultStatements {
  private readonly shapes: StatementShapes;

  constructor(
    protected readonly dataSource: DataSource,
    registry?: TextRegistry,
    capacity = MAX_SHAPES,
  ) {
    this.shapes = new StatementShapes(registry, capacity);
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
   * order (with `fields`, those and start_time and id), with `param` and
   * `result` as their JSON text (the driver is told not to parse them, see
   * JSON_AS_TEXT): the reply takes them as they are, so they are neither
   * parsed nor written again here (see recordsJsonText).
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
    after: RowKey | undefined,
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
  pageJson(filters: readonly Filter[], access: WorkerAccess, after: RowKey | undefined, size: number, fields: readonly RecordField[] | undefined, cap: number): Statement {
    return this.select('page-json', filters, access, size, fields, after, cap);
  }

  /**
   * What selectJson (`json-stream`, `size` the limit) or pageJson
   * (`page-stream`, `size` the page size + 1) read, as a statement that opens
   * a cursor (see RowCursor) over their elements, one row each in the reply's
   * order, every row carrying the exact length of the reply's array and the
   * longest element (and, for a page, where it ends): see streamedElements.
   */
  streamed(form: StreamForm, filters: readonly Filter[], scope: WorkerScope, after: RowKey | undefined, size: number, fields: readonly RecordField[] | undefined): Statement {
    return this.select(form, filters, scope, size, fields, after);
  }

  /**
   * One row `{ count }`: how many rows a delete with the same conditions and
   * limit would delete. Without a limit it is a plain count over the
   * filters, an index range when a worker is named; names are resolved
   * inside the statement, as a delete does.
   */
  count(filters: readonly Filter[], access: WorkerAccess, limit: number | undefined): Statement {
    const form = limit === undefined ? 'count' : 'count-newest';
    const kind = SCOPE_KINDS[access.kind];
    const shape = this.shape(shapeKey(form, kind, filters), () => this.buildCount(filters, kind, limit !== undefined));
    const [names, prefixes] = access.kind === 'patterns' ? [access.names, access.prefixes] : [];
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
      shapeKey(form, SCOPE_KINDS[access.kind], filters),
      () => this.buildDelete(filters, SCOPE_KINDS[access.kind], limit !== undefined),
      (text, placeholders) => auditedText(text, placeholders, 'count'),
    );
    const [names, prefixes] = access.kind === 'patterns' ? [access.names, access.prefixes] : [];
    const statement = fill(shape, callArguments(filters, limit, names, prefixes));
    statement.values.push(...auditValues(action));
    return statement;
  }

  /** The existing worker names under any of the prefixes, one row `{ name }` each. */
  workerNames(prefixes: readonly string[]): Statement {
    const shape = this.shape('worker-names', () => this.buildWorkerNames());
    return fill(shape, callArguments([], undefined, undefined, prefixes));
  }

  protected select(
    form: SelectForm | (string & {}),
    filters: readonly Filter[],
    scope: WorkerScope,
    limit: number,
    fields?: readonly RecordField[],
    after?: RowKey,
    cap?: number,
    share?: number,
  ): Statement {
    const kind = afterKind(after);
    const scopeKind = SCOPE_KINDS[scope.kind];
    const key = `${shapeKey(form, scopeKind, filters)};${fieldsKey(fields)};${kind}`;
    const shape = this.shape(
      key,
      () => this.buildSelect(form, filters, scopeKind, fields, kind),
      form === 'text' ? (text) => JSON_AS_TEXT + text : isStreamForm(form) ? declareCursorText : undefined,
    );
    const prefixes = scope.kind === 'patterns' ? scope.prefixes : undefined;
    const names = scope.kind === 'all' ? undefined : scope.names;
    return fill(shape, callArguments(filters, limit, names, prefixes, after, cap, share));
  }

  /** `finish` rewrites the built text once (its placeholder count given), before it is registered. */
  private shape(key: string, build: () => QueryBuilder<ObjectLiteral>, finish?: FinishText): Shape {
    return this.shapes.get(key, build, finish);
  }

  /**
   * A read's form other than those above, over the same chosen rows: `select`
   * gets its columns from the chosen rows `r` (see chosenRows). For forms
   * built outside the service (bench and tests read plain rows).
   */
  protected buildForm(_form: string, _qb: SelectQueryBuilder<ObjectLiteral>, _chosen: Fragment): void {
    throw new Error(`no such read form: ${_form}`);
  }

  private buildSelect(
    form: SelectForm | (string & {}),
    filters: readonly Filter[],
    scope: ScopeKind,
    fields: readonly RecordField[] | undefined,
    after: AfterKind,
  ): QueryBuilder<ObjectLiteral> {
    const columns = form === 'text' ? [...asSelected(columnsFor(fields)), ...sizeColumns(fields)] : asSelected(columnsFor(fields));
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
    } else if (isStreamForm(form)) {
      const page = form === 'page-stream';
      // What the whole reply needs comes in the first row only: the other rows are their element, less to decode here.
      // (`n` must stay in use: without it the planner drops the numbering and sorts the rows again.)
      const firstOnly = (column: string) => `CASE WHEN m.n = 1 THEN m.${column} END`;
      qb.select('m.element', 'element').addSelect(firstOnly('bytes'), 'bytes').addSelect(firstOnly('widest'), 'widest');
      if (page) qb.addSelect(firstOnly('rows'), 'rows').addSelect(firstOnly('last_start'), 'last_start').addSelect(firstOnly('last_id'), 'last_id');
      qb.from(`(${streamedElements(fields, chosen.sql, page)})`, 'm');
      if (page) qb.where('m.n < :limit::bigint');
      // The chosen rows' order, which the windows keep: no sort.
      qb.orderBy('m.start_time', 'DESC', 'NULLS FIRST').addOrderBy('m.id', 'DESC');
    } else if (form === 'text') {
      const [first, ...rest] = columnsFor(fields).map(({ key }) => key);
      qb.select(textColumn(first), first).from(`(${chosen.sql})`, 'r');
      for (const key of rest) qb.addSelect(textColumn(key), key);
      const gated = gatedKeys(fields);
      if (gated.length > 0) qb.addSelect(`num_nulls(${gated.map((key) => `r.${key}`).join(', ')})`, 'nulls').setParameter('share', new Slot(SHARE));
    } else {
      this.buildForm(form, qb, chosen);
    }
    return scope === 'resolved-patterns' ? withScopeNames(qb) : qb;
  }

  private buildCount(filters: readonly Filter[], scope: ScopeKind, newestOnly: boolean): QueryBuilder<ObjectLiteral> {
    let qb: SelectQueryBuilder<ObjectLiteral>;
    if (newestOnly) {
      const chosen = this.chosenRows(filters, scope, CHOSEN_COLUMNS);
      qb = this.dataSource.createQueryBuilder().select('count(*)', 'count').from(`(${chosen.sql})`, 'chosen').setParameters(chosen.parameters);
    } else {
      qb = this.dataSource.createQueryBuilder(JsResult, 'j').select('count(*)', 'count');
      if (scope === 'resolved-patterns') qb.where('j.jsWorkerName IN (SELECT name FROM allowed)');
      applyFilters(qb, filters, { alias: 'j', bind: filterSlot });
    }
    qb.setParameters(SCOPE_SLOTS);
    return scope === 'resolved-patterns' ? withScopeNames(qb) : qb;
  }

  private buildDelete(filters: readonly Filter[], scope: ScopeKind, newestOnly: boolean): QueryBuilder<ObjectLiteral> {
    // The ids feed the audit wrapper's count (see delete).
    const qb = this.dataSource.createQueryBuilder().delete().from(JsResult).returning('id').setParameters(SCOPE_SLOTS);
    if (scope === 'resolved-patterns') withScopeNames(qb);
    if (newestOnly) {
      const chosen = this.chosenRows(filters, scope, CHOSEN_COLUMNS);
      return qb.where(`id IN (SELECT chosen.id FROM (${chosen.sql}) chosen)`, chosen.parameters);
    }
    if (scope === 'resolved-patterns') qb.where('jsWorkerName IN (SELECT name FROM allowed)');
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
  private chosenRows(filters: readonly Filter[], scope: ScopeKind, columns: ColumnList, after: AfterKind = 'start'): Fragment {
    if (scope === 'every-worker') {
      const qb = this.newestMatching(filters, columns, after);
      return { sql: withLimit(qb.getQuery()), parameters: qb.getParameters() };
    }
    const perWorker = this.newestMatching(filters, columns, after, 'j.jsWorkerName = a.name');
    const workers = scope === 'listed-names' ? LISTED_NAMES_FROM : RESOLVED_NAMES_FROM;
    return { sql: mergedPerWorker(workers, withLimit(perWorker.getQuery())), parameters: perWorker.getParameters() };
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

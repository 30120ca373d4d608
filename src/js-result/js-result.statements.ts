import type { DataSource, ObjectLiteral, QueryBuilder, SelectQueryBuilder, WhereExpressionBuilder } from 'typeorm';
import { BoundedMap } from '../common/bounded-map';
import type { PreparedStatements } from '../database/prepared-statements';
import type { Statement } from '../database/statement';
import { type AuditAction, auditedText, auditValues } from '../audit/audit.statements';
import type { WorkerAccess } from '../token/auth';
import type { Filter } from './conditions/condition.types';
import { JsResult } from './js-result.entity';

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
type Column = (property: keyof JsResult) => string;

/** Each condition as a WHERE term over entity properties; `p` names its parameter. */
const PREDICATES: Record<Filter['kind'], (column: Column, p: string) => string> = {
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
  return typeof filter.value === 'bigint' ? filter.value.toString() : filter.value;
}

export interface FilterBinding {
  /** The alias the terms qualify columns with; none for a DELETE, which TypeORM writes without one. */
  alias?: string;
  /** The parameter value of the `index`th condition; by default the condition's own value. */
  bind?: (filter: ValuedFilter, index: number) => unknown;
}

/**
 * Adds every condition to the builder's WHERE (AND), each value as the bound
 * parameter `f<index>`. Typed for any WHERE builder over JsResult, so the
 * plain DELETE applies the same terms as the reads.
 */
export function applyFilters<Q extends WhereExpressionBuilder>(
  qb: Q,
  filters: readonly Filter[],
  { alias, bind = filterValue }: FilterBinding = {},
): Q {
  const column: Column = alias ? (property) => `${alias}.${property}` : (property) => property;
  filters.forEach((filter, index) => {
    const param = `f${index}`;
    const term = PREDICATES[filter.kind](column, param);
    if ('value' in filter) qb.andWhere(term, { [param]: bind(filter, index) });
    else qb.andWhere(term);
  });
  return qb;
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
const FIRST_FILTER = 3;

const SCOPE_SLOTS: ObjectLiteral = { limit: new Slot(LIMIT), names: new Slot(NAMES), prefixes: new Slot(PREFIXES) };
const filterSlot = (_filter: ValuedFilter, index: number) => new Slot(FIRST_FILTER + index);

function callArguments(filters: readonly Filter[], limit?: number, names?: readonly string[], prefixes?: readonly string[]) {
  const args: unknown[] = [limit, names, prefixes];
  for (const filter of filters) args.push('value' in filter ? filterValue(filter) : undefined);
  return args;
}

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

/** The wire record's keys, in order, and the properties they come from. */
const RECORD_COLUMNS: readonly (readonly [keyof JsResult, string])[] = [
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

/** What a limited delete needs of the rows it chooses: the id, and the order. */
const CHOSEN_COLUMNS: readonly (readonly [keyof JsResult, string])[] = [
  ['id', 'id'],
  ['startTime', 'start_time'],
];

/**
 * The rows as one JSON array text, assembled by PostgreSQL in the reply's order
 * (newest first, not-started rows first); '[]' when there are none.
 */
const JSON_ARRAY =
  "coalesce('[' || string_agg(row_to_json(r)::text, ',' ORDER BY r.start_time DESC NULLS FIRST, r.id DESC) || ']', '[]')";

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

  /** The newest `limit` matching rows the scope allows, as one row `{ json }`: a JSON array text of wire records. */
  selectJson(filters: readonly Filter[], scope: WorkerScope, limit: number): Statement {
    return this.select('json', filters, scope, limit);
  }

  /** The same rows as selectJson, one database row each, the nine record columns in order. */
  selectRows(filters: readonly Filter[], scope: WorkerScope, limit: number): Statement {
    return this.select('rows', filters, scope, limit);
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

  private select(form: 'json' | 'rows', filters: readonly Filter[], scope: WorkerScope, limit: number): Statement {
    const shape = this.shape(shapeKey(form, scope.kind, filters), () => this.buildSelect(form, filters, scope.kind));
    const prefixes = scope.kind === 'some' ? scope.prefixes : undefined;
    const names = scope.kind === 'all' ? undefined : scope.names;
    return fill(shape, callArguments(filters, limit, names, prefixes));
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

  private buildSelect(form: 'json' | 'rows', filters: readonly Filter[], scope: WorkerScope['kind']): QueryBuilder<ObjectLiteral> {
    const chosen = this.chosenRows(filters, scope, RECORD_COLUMNS);
    const qb = this.dataSource
      .createQueryBuilder()
      .select(form === 'json' ? JSON_ARRAY : 'r.*', form === 'json' ? 'json' : undefined)
      .from(`(${chosen.sql})`, 'r')
      .setParameters({ ...chosen.parameters, ...SCOPE_SLOTS });
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
  private chosenRows(
    filters: readonly Filter[],
    scope: WorkerScope['kind'],
    columns: readonly (readonly [keyof JsResult, string])[],
  ): Fragment {
    if (scope === 'all') {
      const qb = this.newestMatching(filters, columns);
      return { sql: limited(qb), parameters: qb.getParameters() };
    }
    const perWorker = this.newestMatching(filters, columns, 'j.jsWorkerName = a.name');
    const workers = scope === 'workers' ? KNOWN_WORKERS : ALLOWED_WORKERS;
    return { sql: mergedPerWorker(workers, limited(perWorker)), parameters: perWorker.getParameters() };
  }

  private newestMatching(
    filters: readonly Filter[],
    columns: readonly (readonly [keyof JsResult, string])[],
    workerTerm?: string,
  ): SelectQueryBuilder<JsResult> {
    const qb = this.dataSource.createQueryBuilder(JsResult, 'j').select([]);
    for (const [property, key] of columns) qb.addSelect(`j.${property}`, key);
    if (workerTerm) qb.where(workerTerm);
    applyFilters(qb, filters, { alias: 'j', bind: filterSlot });
    // DESC puts NULL start times first: not-started rows are the newest.
    return qb.orderBy('j.startTime', 'DESC').addOrderBy('j.id', 'DESC');
  }
}

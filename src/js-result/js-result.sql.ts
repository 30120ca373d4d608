import type { WorkerAccess } from '../token/auth';
import type { Filter } from './conditions/condition.types';

/** A statement and its values; every client value travels as a parameter, never inside the text. */
export interface SqlStatement {
  text: string;
  values: unknown[];
}

const COLUMNS = 'id, js_worker_id, js_worker_name, run_type, start_time, finish_time, param, result, error_message';
/** Newest first: not-started rows (NULL start_time) lead, as DESC puts NULLs first. */
const NEWEST_FIRST = 'start_time DESC, id DESC';

class Parameters {
  readonly values: unknown[] = [];

  add(value: unknown, cast = ''): string {
    this.values.push(typeof value === 'bigint' ? value.toString() : value);
    return `$${this.values.length}${cast}`;
  }
}

function filterSql(filter: Filter, params: Parameters): string {
  switch (filter.kind) {
    case 'id':
    case 'js_worker_id':
      return `${filter.kind} = ${params.add(filter.value, '::bigint')}`;
    case 'js_worker_name':
    case 'run_type':
      return `${filter.kind} = ${params.add(filter.value)}`;
    case 'start_time_from':
      return `start_time >= ${params.add(filter.value, '::bigint')}`;
    case 'start_time_to':
      return `start_time <= ${params.add(filter.value, '::bigint')}`;
    case 'finish_time_from':
      return `finish_time >= ${params.add(filter.value, '::bigint')}`;
    case 'finish_time_to':
      return `finish_time <= ${params.add(filter.value, '::bigint')}`;
    case 'is_success':
      return 'result IS NOT NULL AND error_message IS NULL';
    case 'is_failure':
      return 'error_message IS NOT NULL';
    case 'is_running':
      return 'result IS NULL AND error_message IS NULL';
  }
}

function whereSql(filters: Filter[], params: Parameters, extra: string[] = []): string {
  const parts = [...extra, ...filters.map((f) => `(${filterSql(f, params)})`)];
  return parts.length > 0 ? parts.join(' AND ') : 'TRUE';
}

/**
 * A CTE `prefixed(prefix, name)` holding every existing worker name under each
 * prefix, found by a skip scan over the worker-name index: one probe per
 * distinct name instead of a pass over the table. It relies on the column's
 * byte-order ("C") collation, under which all names sharing a prefix are
 * adjacent, so the walk stops at the first name past it. The last row of each
 * walk is the first name past the prefix; callers filter it out.
 */
function prefixedCte(prefixes: string): string {
  return `WITH RECURSIVE prefixed(prefix, name) AS (
    SELECT p.prefix, (SELECT min(j.js_worker_name) FROM js_result j WHERE j.js_worker_name >= p.prefix)
    FROM unnest(${prefixes}) AS p(prefix)
    UNION ALL
    SELECT w.prefix, (SELECT min(j.js_worker_name) FROM js_result j WHERE j.js_worker_name > w.name)
    FROM prefixed w WHERE starts_with(w.name, w.prefix)
  )`;
}

/** The worker names a restricted caller may see, as a CTE named `allowed`, resolved inside the statement. */
function allowedWorkersCte(access: Extract<WorkerAccess, { kind: 'some' }>, params: Parameters): string {
  const prefixes = params.add(access.prefixes, '::text[]');
  const names = params.add(access.names, '::text[]');
  return `${prefixedCte(prefixes)},
  allowed(name) AS (
    SELECT name FROM prefixed WHERE starts_with(name, prefix)
    UNION
    SELECT unnest(${names})
  )`;
}

/** The existing worker names under any of the prefixes, one row each. */
export function workerNamesSql(prefixes: readonly string[]): SqlStatement {
  const params = new Parameters();
  const text = `${prefixedCte(params.add(prefixes, '::text[]'))}
  SELECT DISTINCT name FROM prefixed WHERE starts_with(name, prefix)`;
  return { text, values: params.values };
}

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

interface SelectParts {
  /** Leading `WITH` clause, empty when the caller may see every worker. */
  cte: string;
  select: string;
  params: Parameters;
}

/** One short newest-first list per worker, merged: the cost follows the workers and the limit, not the table. */
function mergedPerWorker(workers: string, filters: Filter[], params: Parameters, limit: number, columns: string): string {
  const where = whereSql(filters, params, ['js_worker_name = a.name']);
  const perWorker = params.add(limit);
  return `SELECT r.* FROM ${workers} CROSS JOIN LATERAL (
    SELECT ${columns} FROM js_result WHERE ${where} ORDER BY ${NEWEST_FIRST} LIMIT ${perWorker}
  ) r
  ORDER BY r.start_time DESC, r.id DESC LIMIT ${perWorker}`;
}

function selectParts(filters: Filter[], access: WorkerScope, limit: number, columns: string): SelectParts {
  const params = new Parameters();
  if (access.kind === 'workers') {
    const names = params.add(access.names, '::text[]');
    return { cte: '', select: mergedPerWorker(`unnest(${names}) AS a(name)`, filters, params, limit, columns), params };
  }
  if (access.kind === 'all') {
    const where = whereSql(filters, params);
    return {
      cte: '',
      select: `SELECT ${columns} FROM js_result WHERE ${where} ORDER BY ${NEWEST_FIRST} LIMIT ${params.add(limit)}`,
      params,
    };
  }
  const cte = allowedWorkersCte(access, params);
  return { cte, select: mergedPerWorker('allowed a', filters, params, limit, columns), params };
}

/**
 * The newest `limit` matching rows the caller may see. For a restricted caller
 * each allowed worker contributes its own newest rows through the worker-name
 * index, and those short lists are merged: the cost follows the number of
 * workers and the limit, not the size of the table.
 */
export function selectSql(filters: Filter[], access: WorkerScope, limit: number): SqlStatement {
  const { cte, select, params } = selectParts(filters, access, limit, COLUMNS);
  return { text: `${cte} ${select}`.trim(), values: params.values };
}

/**
 * Deletes exactly what selectSql would select, in one statement so that it is
 * all or nothing. Without a limit every matching row goes.
 */
export function deleteSql(filters: Filter[], access: WorkerAccess, limit: number | undefined): SqlStatement {
  if (limit !== undefined) {
    const { cte, select, params } = selectParts(filters, access, limit, 'id, start_time');
    return {
      text: `${cte} DELETE FROM js_result WHERE id IN (SELECT chosen.id FROM (${select}) chosen)`.trim(),
      values: params.values,
    };
  }
  const params = new Parameters();
  if (access.kind === 'all') {
    return { text: `DELETE FROM js_result WHERE ${whereSql(filters, params)}`, values: params.values };
  }
  const cte = allowedWorkersCte(access, params);
  const where = whereSql(filters, params, ['js_worker_name IN (SELECT name FROM allowed)']);
  return { text: `${cte} DELETE FROM js_result WHERE ${where}`, values: params.values };
}

import { RUN_FIELDS } from './js-result.columns';
import { OUTCOMES, type RunOutcome, sqlColumns } from './js-result.outcomes';
import { afterKeyTerm, NEWEST_FIRST, type RowKey } from './row-key';

/*
 * The parts of js_result's statements that TypeORM's QueryBuilder cannot
 * express, as named text, each saying why it is text. Everything else (the
 * conditions, the scope, the order, limits, counts and deletes) is built with
 * the QueryBuilder by JsResultStatements. `:name` parameters are the
 * builder's; `$n` ones belong to statements written whole here.
 */

/**
 * `prefixed(prefix, name)`: every existing worker name under each prefix,
 * found by a skip scan over the worker-name index: one probe per distinct name
 * instead of a pass over the table. It relies on the column's byte-order ("C")
 * collation, under which all names sharing a prefix are adjacent, so the walk
 * stops at the first name past it. The last row of each walk is that first
 * name past the prefix; readers filter it out. Text: TypeORM has no recursive
 * CTE body of its own, only a place to put one.
 */
export const PREFIXED_NAMES = `SELECT p.prefix, (SELECT min(n.js_worker_name) FROM js_result n WHERE n.js_worker_name >= p.prefix)
    FROM unnest(:prefixes::text[]) AS p(prefix)
    UNION ALL
    SELECT w.prefix, (SELECT min(n.js_worker_name) FROM js_result n WHERE n.js_worker_name > w.name)
    FROM prefixed w WHERE starts_with(w.name, w.prefix)`;

/**
 * `allowed(name)`: the names a caller's worker patterns reach (its exact names
 * and the existing names under its prefixes), resolved inside the statement.
 * Text: a UNION, which the QueryBuilder does not write.
 */
export const PATTERN_NAMES = 'SELECT name FROM prefixed WHERE starts_with(name, prefix) UNION SELECT unnest(:names::text[])';

/** The worker-name rows a scope reads from, per kind (see WorkerScope): resolved in the statement, or listed by the caller. */
export const RESOLVED_NAMES_FROM = 'allowed a';
export const LISTED_NAMES_FROM = 'unnest(:names::text[]) AS a(name)';

/**
 * One short newest-first list per worker, merged: the cost follows the workers
 * and the limit, not the table. Text: TypeORM has no LATERAL join.
 */
export const mergedPerWorker = (workers: string, perWorker: string) =>
  `SELECT w.* FROM ${workers} CROSS JOIN LATERAL (${perWorker}) w ORDER BY w.start_time DESC, w.id DESC LIMIT :limit`;

/**
 * One record as JSON text: the whole row, or only `fields`, in the order
 * asked. Text: JSON construction functions, which the QueryBuilder does not know.
 */
export function jsonElementOf(fields: readonly string[] | undefined): string {
  if (fields === undefined) return 'row_to_json(r)::text';
  return `json_build_object(${fields.map((field) => `'${field}', r.${field}`).join(', ')})::text`;
}

/**
 * Each chosen row's JSON element, and `running`: the bytes of the array up to
 * and including it (each element and the comma or bracket before it). Text:
 * a window function over JSON elements (JSON aggregation).
 */
export const measuredElements = (fields: readonly string[] | undefined, chosen: string) =>
  `SELECT e.*, sum(octet_length(e.element) + 1) OVER (ORDER BY ${NEWEST_FIRST}) AS running ` +
  `FROM (SELECT r.start_time, r.id, ${jsonElementOf(fields)} AS element FROM (${chosen}) r) e`;

/**
 * The rows as one JSON array text in the reply's order ('[]' when there are
 * none), or NULL when the array would be longer than `:cap` bytes: then only
 * `bytes`, the length it would have had, is sent. The database stops adding
 * elements at the cap, so neither it nor this process ever holds more of it.
 * Text: an ordered, filtered string_agg (JSON aggregation).
 */
export const CAPPED_JSON_ARRAY =
  "CASE WHEN coalesce(max(m.running), 1) + 1 <= :cap::float8 THEN coalesce('[' || " +
  "string_agg(m.element, ',' ORDER BY m.start_time DESC NULLS FIRST, m.id DESC) FILTER (WHERE m.running < :cap::float8) || ']', '[]') END";
export const ARRAY_BYTES = '(coalesce(max(m.running), 1) + 1)::float8';

/**
 * measuredElements for a page read one row past its end (`:limit` is the
 * page size + 1): `n` numbers the rows, so the page is the rows before the
 * last and the row past it only tells that more follow. Text: named window.
 */
export const numberedElements = (fields: readonly string[] | undefined, chosen: string) =>
  'SELECT e.*, sum(octet_length(e.element) + 1) OVER newest AS running, count(*) OVER newest AS n ' +
  `FROM (SELECT r.start_time, r.id, ${jsonElementOf(fields)} AS element FROM (${chosen}) r) e WINDOW newest AS (ORDER BY ${NEWEST_FIRST})`;

const IN_PAGE = 'm.n < :limit::bigint';
/** CAPPED_JSON_ARRAY and ARRAY_BYTES of the page's rows; `rows` (all, the one past the page too) and the page's last position as text. */
export const CAPPED_PAGE_ARRAY =
  `CASE WHEN coalesce(max(m.running) FILTER (WHERE ${IN_PAGE}), 1) + 1 <= :cap::float8 THEN coalesce('[' || ` +
  `string_agg(m.element, ',' ORDER BY m.start_time DESC NULLS FIRST, m.id DESC) FILTER (WHERE ${IN_PAGE} AND m.running < :cap::float8) || ']', '[]') END`;
export const PAGE_BYTES = `(coalesce(max(m.running) FILTER (WHERE ${IN_PAGE}), 1) + 1)::float8`;
export const PAGE_END_START = '(max(m.start_time) FILTER (WHERE m.n = :limit::bigint - 1))::text';
export const PAGE_END_ID = '(max(m.id) FILTER (WHERE m.n = :limit::bigint - 1))::text';

/**
 * The chosen rows' JSON elements one database row each, numbered `n` in the
 * reply's order (read in the chosen rows' own order: ordering by `n` instead
 * would sort them again, on disk for 10,000 large rows), every row carrying what the reply needs to know before its
 * first byte is sent: `bytes`, the exact length of the JSON array of the
 * elements numbered below `:limit` (each element and the comma or bracket
 * before it, and the closing bracket), and `widest`, the longest element,
 * which sizes the batches read through the cursor. For a page (`page` true,
 * `:limit` the page size + 1) also `rows`, all rows matched, the one past the
 * page too, and the position of the page's last row as text. The database
 * keeps the rows (the windows see them all before the first is given), so
 * the reader holds a batch at a time. Text: window functions over JSON
 * elements, with FILTER.
 */
export function streamedElements(fields: readonly string[] | undefined, chosen: string, page: boolean): string {
  const inPage = page ? ' FILTER (WHERE e.n < :limit::bigint)' : '';
  const pageColumns = page
    ? ', count(*) OVER whole AS rows, (max(e.start_time) FILTER (WHERE e.n = :limit::bigint - 1) OVER whole)::text AS last_start' +
      ', (max(e.id) FILTER (WHERE e.n = :limit::bigint - 1) OVER whole)::text AS last_id'
    : '';
  return (
    `SELECT e.start_time, e.id, e.element, e.n, (sum(octet_length(e.element) + 1)${inPage} OVER whole + 1)::float8 AS bytes, ` +
    `max(octet_length(e.element)) OVER whole AS widest${pageColumns} ` +
    `FROM (SELECT r.start_time, r.id, ${jsonElementOf(fields)} AS element, row_number() OVER (ORDER BY ${NEWEST_FIRST}) AS n FROM (${chosen}) r) e ` +
    // Whole-set aggregates in the reply's order: the rows come out in it, and the cursor's ORDER BY needs no sort.
    `WINDOW whole AS (ORDER BY ${NEWEST_FIRST} ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING)`
  );
}

/** TypeORM writes LIMIT as a literal; here it is the parameter `:limit`, so one text serves every limit. */
export const withLimit = (text: string) => `${text} LIMIT :limit`;

/**
 * The record's bytes on the wire, from the database's text of its large
 * columns plus the rest of the record and a reply's envelope (ids and times
 * at their longest); string escapes aside, which the reply's own charge sees.
 */
const RECORD_OVERHEAD_BYTES = 256;

/** The record's run columns (all but its values), under `alias`. */
const runColumns = (alias: string) => RUN_FIELDS.map((field) => `${alias}.${field}`).join(', ');

/**
 * The rows `rows` finds (a FROM clause naming js_result's columns `j` and the
 * order `w.n`), in that order, within caps: `param` and `result` are turned
 * into text once (`OFFSET 0` keeps the planner from repeating the cast in each
 * CASE) and measured there; a row above `rowBytes` bytes, or one that would
 * take the rows before it past `batchBytes` (the first row sent always goes),
 * is not sent, only its size. So neither the database's reply nor this
 * process ever holds more than the caps, whatever the rows hold. Text: a
 * LATERAL measure and a running window sum.
 */
const cappedRecords = (rows: string, rowBytes: string, batchBytes: string) => `SELECT ${runColumns('m')},
    m.has_result, m.has_error, m.bytes, m.sent,
    CASE WHEN m.sent THEN m.p END AS param, CASE WHEN m.sent THEN m.r END AS result, CASE WHEN m.sent THEN m.e END AS error_message
  FROM (SELECT s.*, s.bytes <= ${rowBytes}::float8 AND (s.running <= ${batchBytes}::float8 OR s.running = s.bytes) AS sent
    FROM (SELECT w.n, ${runColumns('j')},
        j.result IS NOT NULL AS has_result, j.error_message IS NOT NULL AS has_error, t.p, t.r, t.e, t.bytes,
        sum(CASE WHEN t.bytes <= ${rowBytes}::float8 THEN t.bytes ELSE 0 END) OVER (ORDER BY w.n) AS running
      FROM ${rows}
      CROSS JOIN LATERAL (
        SELECT x.p, x.r, x.e,
          (coalesce(octet_length(x.p), 4) + coalesce(octet_length(x.r), 4) + coalesce(octet_length(x.e), 4)
            + octet_length(j.js_worker_name) + octet_length(j.run_type) + ${RECORD_OVERHEAD_BYTES})::float8 AS bytes
        FROM (SELECT j.param::text AS p, j.result::text AS r, j.error_message AS e OFFSET 0) x
      ) t) s) m
  ORDER BY m.n`;

/** The rows of `$1` in that order (missing ids skipped), capped (cappedRecords) at `$2` bytes a row and `$3` in all. */
export const SELECT_CAPPED_BY_IDS = cappedRecords('unnest($1::bigint[]) WITH ORDINALITY AS w(id, n) JOIN js_result j ON j.id = w.id', '$2', '$3');

/*
 * Run rows. A run's row is written together with other tables' rows (the
 * worker's tracking row, the crontab's firing record) in one statement, all
 * or nothing: data-modifying WITH parts, which TypeORM cannot write.
 */

/** A new run's id taken ahead of its row, so that a statement's other parts can name it. */
export const NEXT_RUN_ID = "nextval(pg_get_serial_sequence('js_result', 'id'))";

/** SQL expressions for the columns of new running rows, read from `source` (a FROM clause, with any WHERE). */
export interface RunningRowsFrom {
  id?: string;
  workerId: string;
  workerName: string;
  runType: string;
  startTime: string;
  param: string;
  source?: string;
}

/** INSERTs running rows (no finish, result or error yet), RETURNING id: the body of a WITH part. */
export function insertRunningRows(row: RunningRowsFrom): string {
  const columns = ['js_worker_id', 'js_worker_name', 'run_type', 'start_time', 'param'];
  const values = [row.workerId, row.workerName, row.runType, row.startTime, row.param];
  if (row.id !== undefined) {
    columns.unshift('id');
    values.unshift(row.id);
  }
  const rows = row.source === undefined ? `VALUES (${values.join(', ')})` : `SELECT ${values.join(', ')} FROM ${row.source}`;
  return `INSERT INTO js_result (${columns.join(', ')}) ${rows} RETURNING id`;
}

const running = OUTCOMES.running.sql(sqlColumns('r'));

/**
 * Ends the running rows whose ids `ids` (a WITH part, column `id`) answers, as
 * failures: $k finish time, $k+1 message (k = `first`). A row that finished
 * meanwhile is left as it is.
 */
export const interruptRunning = (ids: string, first: number) =>
  `UPDATE js_result r SET finish_time = $${first}, error_message = $${first + 1}
   FROM ${ids} WHERE r.id = ${ids}.id AND ${running}
   RETURNING r.id`;

/** A run's worker, whether it is running, and its kept console ($1 the id). Text: kept beside the writes of the console it reads. */
export const RUN_CONSOLE = `SELECT r.js_worker_name, ${running} AS running, c.lines
FROM js_result r LEFT JOIN js_result_console c ON c.js_result_id = r.id
WHERE r.id = $1::bigint`;

/**
 * Deletes the next `$2` rows of worker `$1` in an outcome, in newest-first
 * order after a key ($3 its id, $4 its start time when it has one), with
 * another table's step over `changed(id)`, the deleted ids. Answers how many
 * rows it chose (fewer than the batch: nothing is left), how many it deleted
 * (a row deleted or changed meanwhile is left alone), and the last chosen
 * key, where the next batch starts: resuming from a key, not from the
 * worker's newest row, keeps each batch's cost flat however many dead index
 * entries earlier batches left. The outer DELETE checks the outcome again, on
 * the row as it is then. Text: a DELETE … USING a WITH part, which TypeORM
 * cannot write.
 */
export function deleteExpiredText(outcome: RunOutcome, after: Pick<RowKey, 'startTime'>, step: string): string {
  const holds = OUTCOMES[outcome].sql;
  const afterKey = afterKeyTerm(after, { startTime: 'r.start_time', id: 'r.id' }, { startTime: '$4::bigint', id: '$3::bigint' });
  return `WITH chosen AS (
  SELECT r.id, r.start_time FROM js_result r
  WHERE r.js_worker_name = $1 AND ${holds(sqlColumns('r'))} AND ${afterKey}
  ORDER BY r.start_time DESC, r.id DESC LIMIT $2
),
changed AS (
  DELETE FROM js_result d USING chosen c WHERE d.id = c.id AND ${holds(sqlColumns('d'))} RETURNING d.id
),
alongside AS (${step}),
last AS (SELECT start_time, id FROM chosen ORDER BY start_time ASC NULLS LAST, id ASC LIMIT 1)
SELECT (SELECT count(*) FROM chosen)::int AS chosen, (SELECT count(*) FROM changed)::int AS deleted,
  (SELECT start_time::text FROM last) AS start_time, (SELECT id::text FROM last) AS id`;
}

/**
 * Many runs of stored workers written as they start, in one statement, each
 * with its worker as the statement found it: `$1`-`$4` arrays (worker names,
 * run types, start times, params as JSON text or null), one element per run.
 * `worker` is the workers' module's WITH part over the names (every column
 * under its own name); a run whose worker it does not find is not written
 * (its id is null). The ids are taken first, so the
 * answer lists them in the arrays' order (RETURNING has no order), each with
 * its worker's id and, on the first run of each worker only, the worker's
 * row (one copy of a script per statement, however many runs it starts); the
 * step reads `run(id)`. Text: data-modifying WITH parts over unnest.
 */
export const START_WORKER_RUNS_VALUES = 4;
export const startWorkerRunsText = (worker: string, step: string) => `WITH worker AS (${worker}), input AS (
  SELECT CASE WHEN w.id IS NOT NULL THEN ${NEXT_RUN_ID} END AS id, u.n, w.id AS worker_id, u.worker_name, u.run_type, u.start_time, u.param,
    CASE WHEN w.id IS NOT NULL AND row_number() OVER (PARTITION BY w.id ORDER BY u.n) = 1 THEN to_jsonb(w) END AS worker_json
  FROM unnest($1::text[], $2::text[], $3::bigint[], $4::text[]) WITH ORDINALITY AS u(worker_name, run_type, start_time, param, n)
  LEFT JOIN worker w ON w.name = u.worker_name
), run AS (
  ${insertRunningRows({ id: 'id', workerId: 'worker_id', workerName: 'worker_name', runType: 'run_type', startTime: 'start_time', param: 'param::jsonb', source: 'input WHERE id IS NOT NULL ORDER BY n' })}
), alongside AS (${step})
SELECT id, worker_id, worker_json FROM input ORDER BY n`;

/**
 * How many runs ended, in one statement: `$1`-`$6` arrays (ids, finish
 * times, results as JSON text, error messages, console lines as JSON text or
 * null: none kept, and whether the finished record is wanted), one element per
 * run. The step reads `ended(id)`, every id given (a row deleted meanwhile
 * included), not only the rows updated. The answer is the finished records
 * wanted, capped (cappedRecords) at `$7` bytes a row and `$8` in all, as the
 * rows stand after this statement: whoever waits for them need not read them
 * again. Text: data-modifying WITH parts over unnest, an upsert among them.
 */
export const FINISH_RUNS_VALUES = 8;
export const finishRunsText = (step: string) => `WITH input AS (
  SELECT * FROM unnest($1::bigint[], $2::bigint[], $3::text[], $4::text[], $5::text[], $6::boolean[]) WITH ORDINALITY
    AS u(id, finish_time, result, error_message, lines, wanted, n)
), run AS (
  UPDATE js_result j SET finish_time = i.finish_time, result = i.result::jsonb, error_message = i.error_message
  FROM input i WHERE j.id = i.id
  RETURNING j.*
), kept AS (
  INSERT INTO js_result_console (js_result_id, lines)
  SELECT i.id, i.lines::jsonb FROM input i JOIN run r ON r.id = i.id WHERE i.lines IS NOT NULL
  ON CONFLICT (js_result_id) DO UPDATE SET lines = EXCLUDED.lines
), ended AS (SELECT id FROM input), alongside AS (${step})
${cappedRecords('run j JOIN input w ON w.id = j.id AND w.wanted', '$7', '$8')}`;

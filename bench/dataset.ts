/**
 * The shape of the benchmark data, shared by the seeder, the scenarios and the
 * report. Every row is a pure function of its index, so the same size always
 * gives the same table, and one worker's rows can be regenerated exactly.
 */
export const WORKER_COUNT = 1000;
export const DAY_MS = 86_400_000;
/** Start times fall in the 90 days before this instant (fixed, so runs are comparable). */
export const SEED_END_MS = Date.UTC(2025, 5, 1);
export const SEED_SPAN_MS = 90 * DAY_MS;
/** Bumped whenever the generator changes, so an old table is reseeded. */
export const SEED_VERSION = 'v1';

export function workerName(index: number): string {
  return `w_${String(index).padStart(4, '0')}`;
}

export const ALL_WORKER_NAMES = Array.from({ length: WORKER_COUNT }, (_, i) => workerName(i));

/** The dashboard's worker (S1, S2, S5) and the worker whose results S6 deletes. */
export const NAMED_WORKER = workerName(42);
export const DELETE_WORKER_INDEX = 500;
export const DELETE_WORKER = workerName(DELETE_WORKER_INDEX);
/** Covers w_0000 … w_0009: 10 of the 1,000 workers, 1%. */
export const WILDCARD_PATTERN = 'w_000*';

/**
 * SELECT producing the rows for the row indexes in `series` (a SQL set of
 * bigint `g`). State: 80% success, 10% failure, 10% running; about 200 bytes
 * of param + result JSON, as a periodic HTTP-polling worker would store.
 * hashint8extended gives a stable pseudo-random number per (index, stream).
 */
export function rowsSelectSql(series: string): string {
  return `
  SELECT g + 1 AS id,
         w + 1 AS js_worker_id,
         'w_' || lpad(w::text, 4, '0') AS js_worker_name,
         CASE WHEN kind < 717 THEN 'cron' WHEN kind < 921 THEN 'call' WHEN kind < 993 THEN 'route' ELSE 'inline_call' END AS run_type,
         start_time,
         CASE WHEN state = 'running' THEN NULL ELSE start_time + took END AS finish_time,
         jsonb_build_object(
           'url', 'https://api.example.com/v2/sites/' || (g % 9973) || '/metrics',
           'method', 'GET', 'timeout_ms', 5000, 'attempt', 1 + g % 3,
           'tags', jsonb_build_array('cron', 'region-' || (g % 7))) AS param,
         CASE WHEN state = 'success' THEN jsonb_build_object(
           'status', 200, 'items', g % 500, 'elapsed_ms', took,
           'etag', md5(g::text), 'cached', g % 5 = 0) END AS result,
         CASE WHEN state = 'failure' THEN
           'Error: upstream https://api.example.com returned 503 Service Unavailable after ' || took || ' ms' END AS error_message
  FROM (
    SELECT g, w, kind, took,
           ${SEED_END_MS}::bigint - (u_time * ${SEED_SPAN_MS})::bigint AS start_time,
           CASE WHEN u_state < 0.8 THEN 'success' WHEN u_state < 0.9 THEN 'failure' ELSE 'running' END AS state
    FROM (
      SELECT g, g % ${WORKER_COUNT} AS w,
             (hashint8extended(g, 1) & 1048575)::float8 / 1048576 AS u_state,
             (hashint8extended(g, 2) & 1073741823)::float8 / 1073741824 AS u_time,
             hashint8extended(g, 3) & 1023 AS kind,
             20 + (hashint8extended(g, 4) & 4095) AS took
      FROM ${series} AS g
    ) raw
  ) shaped`;
}

export const INSERT_COLUMNS =
  'id, js_worker_id, js_worker_name, run_type, start_time, finish_time, param, result, error_message';

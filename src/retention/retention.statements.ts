import { NOW_MS_SQL, type Statement } from '../database/statement';
import type { Outcome } from './retention.params';

/** The smallest bigint: a key with this id puts every row of its start time before it. */
export const MIN_ID = '-9223372036854775808';

/**
 * A position in a worker's newest-first order (start_time DESC with not-started
 * rows first, then id DESC). A rule deletes every row strictly after it.
 */
export interface OrderKey {
  /** Decimal text (bigint), or null for a not-started row. */
  startTime: string | null;
  id: string;
}

/** What one policy deletes of one worker: its rows in that outcome after `after`. */
export interface SweepRule {
  policyId: number;
  worker: string;
  outcome: Outcome;
  after: OrderKey;
}

/** Only finished rows have an outcome, so no predicate here ever matches a running row. */
const OUTCOME_SQL: Record<Outcome, (alias: string) => string> = {
  success: (r) => `(${r}.result IS NOT NULL AND ${r}.error_message IS NULL)`,
  failure: (r) => `${r}.error_message IS NOT NULL`,
  any: (r) => `(${r}.result IS NOT NULL OR ${r}.error_message IS NOT NULL)`,
};

/**
 * Rows after the key ($2 start time, $3 id). Written as a range on start_time
 * when the key has one, so the scan starts at the key in the worker's
 * (js_worker_name, start_time DESC, id DESC) index instead of at its newest row.
 */
const AFTER_STARTED = 'r.start_time <= $2::bigint AND (r.start_time < $2::bigint OR r.id < $3::bigint)';
// $2 is null here; it is named anyway, as every parameter must be typed.
const AFTER_NOT_STARTED = '$2::bigint IS NULL AND (r.start_time IS NOT NULL OR r.id < $3::bigint)';

/** Precedes `b` in the newest-first order. */
export function isBefore(a: OrderKey, b: OrderKey): boolean {
  if (a.startTime === null || b.startTime === null) {
    if (a.startTime !== b.startTime) return a.startTime === null;
    return BigInt(a.id) > BigInt(b.id);
  }
  const [sa, sb] = [BigInt(a.startTime), BigInt(b.startTime)];
  return sa !== sb ? sa > sb : BigInt(a.id) > BigInt(b.id);
}

/** Every existing worker name starting with `prefix`: one index probe per name (the column's "C" collation keeps them adjacent). */
export function workersUnder(prefix: string): Statement {
  return {
    text: `WITH RECURSIVE names(name) AS (
  SELECT min(js_worker_name) FROM js_result WHERE js_worker_name >= $1
  UNION ALL
  SELECT (SELECT min(j.js_worker_name) FROM js_result j WHERE j.js_worker_name > n.name) FROM names n WHERE starts_with(n.name, $1)
)
SELECT name FROM names WHERE starts_with(name, $1)`,
    values: [prefix],
  };
}

/** The `n`th newest row of a worker in an outcome (1-based), if it has that many. */
export function nthNewest(worker: string, outcome: Outcome, n: number): Statement {
  return {
    text: `SELECT r.start_time::text AS start_time, r.id::text AS id FROM js_result r
WHERE r.js_worker_name = $1 AND ${OUTCOME_SQL[outcome]('r')}
ORDER BY r.start_time DESC, r.id DESC OFFSET $2 LIMIT 1`,
    values: [worker, n - 1],
  };
}

/**
 * Deletes the next `batchSize` rows of a rule, in newest-first order from its key,
 * and adds the count to the sweep's tally in the same statement (so a
 * deletion is never without its count). Answers how many rows it chose (fewer
 * than the batch: the rule is done), how many it deleted (a row deleted or
 * changed meanwhile is left alone), and the last chosen key, where the next
 * batch starts: resuming from a key, not from the worker's newest row, keeps
 * each batch's cost flat however many dead index entries earlier batches left.
 * The outer DELETE checks the outcome again, on the row as it is then.
 */
export function deleteBatch(rule: SweepRule, batchSize: number): Statement {
  const outcome = OUTCOME_SQL[rule.outcome];
  const after = rule.after.startTime === null ? AFTER_NOT_STARTED : AFTER_STARTED;
  return {
    text: `WITH chosen AS (
  SELECT r.id, r.start_time FROM js_result r
  WHERE r.js_worker_name = $1 AND ${outcome('r')} AND ${after}
  ORDER BY r.start_time DESC, r.id DESC LIMIT $4
),
changed AS (
  DELETE FROM js_result d USING chosen c WHERE d.id = c.id AND ${outcome('d')} RETURNING d.id
),
counted AS (
  INSERT INTO js_result_retention_sweep AS s (id, deleted, policies)
  SELECT 1, count(*), jsonb_build_array($5::bigint) FROM changed HAVING count(*) > 0
  ON CONFLICT (id) DO UPDATE SET
    deleted = s.deleted + excluded.deleted,
    policies = CASE WHEN s.policies @> excluded.policies THEN s.policies ELSE s.policies || excluded.policies END
),
last AS (SELECT start_time, id FROM chosen ORDER BY start_time ASC NULLS LAST, id ASC LIMIT 1)
SELECT (SELECT count(*) FROM chosen)::int AS chosen, (SELECT count(*) FROM changed)::int AS deleted,
  (SELECT start_time::text FROM last) AS start_time, (SELECT id::text FROM last) AS id`,
    values: [rule.worker, rule.after.startTime, rule.after.id, batchSize, rule.policyId],
  };
}

/**
 * Turns the tally of deleted rows into one audit entry (method `retention`,
 * by the server) and clears it, in one statement; nothing when nothing was
 * deleted. Answers the entry's count, if one was written.
 */
export const RECORD_SWEEP: Statement = {
  text: `WITH done AS (DELETE FROM js_result_retention_sweep WHERE id = 1 RETURNING deleted, policies)
INSERT INTO audit_log (at, token_key, origin, method, params, affected)
SELECT ${NOW_MS_SQL}, NULL, 'server', 'retention', jsonb_build_object('policies', policies), deleted FROM done WHERE deleted > 0
RETURNING affected::text AS affected`,
  values: [],
};

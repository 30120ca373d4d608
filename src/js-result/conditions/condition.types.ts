/**
 * A query condition after parsing. Integers are bigint so that every 64-bit
 * value a client sends is kept exactly; `*_from_to` pairs are split into their
 * two bounds, which the contract defines them to be.
 */
export type Condition =
  | { kind: 'id'; value: bigint }
  | { kind: 'js_worker_id'; value: bigint }
  | { kind: 'js_worker_name'; value: string }
  | { kind: 'run_type'; value: string }
  | { kind: 'start_time_from'; value: bigint }
  | { kind: 'start_time_to'; value: bigint }
  | { kind: 'finish_time_from'; value: bigint }
  | { kind: 'finish_time_to'; value: bigint }
  | { kind: 'is_success' }
  | { kind: 'is_failure' }
  | { kind: 'is_running' }
  | { kind: 'limit'; value: bigint }
  | { kind: 'last' };

export type Filter = Exclude<Condition, { kind: 'limit' } | { kind: 'last' }>;

/** A parsed `query`: what to match, and how many of the newest matches to keep. */
export interface Selection {
  filters: Filter[];
  /** Distinct worker names the conditions require; each one is permission-checked. */
  namedWorkers: string[];
  /** From `limit`/`last`, already cut to MAX_LIMIT; undefined when neither appears. */
  limit?: number;
  /** Length of the raw condition array, echoed by delete. */
  conditionCount: number;
}

/** Largest `limit` honoured; larger values are cut to it. */
export const MAX_LIMIT = 10_000;
/** Rows a query returns when it names no `limit` or `last`. */
export const DEFAULT_QUERY_CAP = 1_000;

import type { Filter } from '../js-result/conditions/condition.types';
import { OUTCOMES } from '../js-result/js-result.outcomes';
import type { ResultRow } from './result-rows.reader';

/** What a condition looks at: the plain columns, and whether `result` and `error_message` are set (from SQL). */
export type MatchedRow = Pick<ResultRow, 'record' | 'hasResult' | 'hasError'>;

const big = (value: number | bigint) => BigInt(value);

/** `column >= bound` / `<=` as SQL has it for a nullable bigint: null never matches. */
const atLeast = (value: number | bigint | null, bound: bigint) => value !== null && big(value) >= bound;
const atMost = (value: number | bigint | null, bound: bigint) => value !== null && big(value) <= bound;

/**
 * One condition against one row, in memory, exactly as the SQL predicates of
 * js-result.statements.ts decide it (JSRESULT.md §2; the outcomes are the same
 * definitions, OUTCOMES): the subscriptions test
 * each finished row against their conditions without asking the database.
 */
function matches(filter: Filter, row: MatchedRow): boolean {
  const { record } = row;
  switch (filter.kind) {
    case 'id':
      return big(record.id) === filter.value;
    case 'js_worker_id':
      return big(record.js_worker_id) === filter.value;
    case 'js_worker_name':
      return record.js_worker_name === filter.value;
    case 'run_type':
      return record.run_type === filter.value;
    case 'start_time_from':
      return atLeast(record.start_time, filter.value);
    case 'start_time_to':
      return atMost(record.start_time, filter.value);
    case 'finish_time_from':
      return atLeast(record.finish_time, filter.value);
    case 'finish_time_to':
      return atMost(record.finish_time, filter.value);
    case 'is_success':
      return OUTCOMES.succeeded.holds(row);
    case 'is_failure':
      return OUTCOMES.failed.holds(row);
    case 'is_running':
      return OUTCOMES.running.holds(row);
  }
}

/** Every condition holds (AND); an empty list matches every row. */
export function matchesFilters(filters: readonly Filter[], row: MatchedRow): boolean {
  return filters.every((filter) => matches(filter, row));
}

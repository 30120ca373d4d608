/**
 * Where a walk over js_result stands: the (start_time, id) of a row, as
 * decimal text so 64-bit values stay exact (null start_time: a run not yet
 * started). Every walk goes in the order of every read, newest first:
 * start_time DESC with not-started rows first, then id DESC. Pages, retention
 * sweeps and anything else that walks the table use this one key and
 * afterKeyTerm.
 */
export interface RowKey {
  startTime: string | null;
  id: string;
}

/** The smallest bigint: a key with this id puts every row of its start time before it. */
export const MIN_ID = '-9223372036854775808';

/** Precedes `b` in the newest-first order. */
export function isBefore(a: RowKey, b: RowKey): boolean {
  if (a.startTime === null || b.startTime === null) {
    if (a.startTime !== b.startTime) return a.startTime === null;
    return BigInt(a.id) > BigInt(b.id);
  }
  const [sa, sb] = [BigInt(a.startTime), BigInt(b.startTime)];
  return sa !== sb ? sa > sb : BigInt(a.id) > BigInt(b.id);
}

/** The key's columns and the parameters holding its values, as the statement writes them. */
export interface KeyTerms {
  startTime: string;
  id: string;
}

/**
 * The condition for rows strictly after a key, one text per kind of key. For
 * a started key a row comparison: one range of the (start_time DESC, id DESC)
 * indexes, also after a worker-name equality on the worker's index, so a walk
 * deep into the table starts where it stopped. Not-started rows sort first,
 * so after a not-started key come the not-started rows of lower id and then
 * every started row.
 */
export function afterKeyTerm(key: Pick<RowKey, 'startTime'>, column: KeyTerms, param: KeyTerms): string {
  return key.startTime === null
    ? `((${column.startTime} IS NULL AND ${column.id} < ${param.id}) OR ${column.startTime} IS NOT NULL)`
    : `(${column.startTime}, ${column.id}) < (${param.startTime}, ${param.id})`;
}

/** The newest-first order as SQL, over a row's own column names. */
export const NEWEST_FIRST = 'start_time DESC NULLS FIRST, id DESC';

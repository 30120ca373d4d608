/**
 * The parts of the `crontab_result` table's statements that TypeORM's
 * QueryBuilder cannot express; the rest is built by CrontabResultRepository on
 * the CrontabResult entity.
 */

/**
 * The caller's job-name scope as a condition: names, or any of its prefixes
 * compared as text (so `%`, `_` and `\` in a prefix are literal). Text: the
 * builder has no form for a subquery over unnest() of an array parameter.
 */
export const JOB_NAME_SCOPE =
  '(r.cronName = ANY(:jobNames::varchar[]) OR EXISTS (SELECT 1 FROM unnest(:jobPrefixes::text[]) AS p(prefix) WHERE starts_with(r.cronName, p.prefix)))';

/**
 * Many firing records in one INSERT, one array per column (the import). Text:
 * the builder inserts VALUES rows, one placeholder per value, where this
 * takes six values whatever the number of rows.
 */
export const INSERT_RESULTS_FROM_ARRAYS = `INSERT INTO crontab_result (cron_id, cron_name, relative_id, run_time, success, message)
               SELECT * FROM unnest($1::bigint[], $2::varchar[], $3::bigint[], $4::bigint[], $5::boolean[], $6::varchar[])
               RETURNING id`;

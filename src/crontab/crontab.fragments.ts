/**
 * The parts of the `crontab` table's statements that TypeORM's QueryBuilder
 * cannot express; the rest is built by CrontabRepository on the Crontab entity.
 */

/**
 * Text: an INSERT … SELECT … WHERE, so that counting the stored jobs and
 * adding one are a single statement (the builder's insert takes only VALUES).
 * $1 name, $2 expression, $3 cron_type as JSON text, $4 now, $5 the most jobs.
 */
export const INSERT_WITHIN_MAX_JOBS = `INSERT INTO crontab (name, enable, cron_expression, cron_type, last_run_time, schedule_from)
                 SELECT $1, true, $2, $3::jsonb, NULL, $4 WHERE (SELECT count(*) FROM crontab) < $5
                 RETURNING id`;

/**
 * A jsonb value sent as its JSON text: the builder would serialise it with
 * JSON.stringify, and a job's params keep 64-bit integers exact. `:cronType`
 * is the parameter.
 */
export const CRON_TYPE_AS_JSONB = ':cronType::jsonb';

/**
 * The SET of schedule_from when enabling: it reads the row's old `enable`,
 * which the builder's set() can only take as an expression. A disabled job
 * that is enabled is scheduled from `:now`.
 */
export const SCHEDULE_FROM_ON_ENABLE = 'CASE WHEN NOT enable AND :enable THEN :now::bigint ELSE schedule_from END';

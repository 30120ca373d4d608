/**
 * The parts of js_worker's statements (and of the instance numbers beside it)
 * that TypeORM's QueryBuilder cannot express; everything else is built by
 * JsWorkerRepository on the JsWorker entity.
 */

/**
 * A jsonb value sent as its JSON text: the builder would serialise the object
 * itself with JSON.stringify, which refuses BigInt, and a worker's env keeps
 * 64-bit integers exact (stringifyJson). `:env` is the parameter.
 */
export const ENV_AS_JSONB = ':env::jsonb';

/** Text: a sequence is not a table, so there is nothing for a builder to select from. */
export const NEXT_INSTANCE_ID = `SELECT nextval('js_worker_instance_seq')::integer AS id`;

/**
 * Text: session-level advisory locks are function calls on a session, not
 * statements on a table. $1 is INSTANCE_LOCK_CLASS, $2 the instance number.
 */
export const LOCK_INSTANCE = 'SELECT pg_advisory_lock($1, $2)';
export const TRY_LOCK_INSTANCE = 'SELECT pg_try_advisory_lock($1, $2) AS locked';
export const UNLOCK_INSTANCE = 'SELECT pg_advisory_unlock($1, $2)';

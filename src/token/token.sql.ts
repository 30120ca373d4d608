/*
 * The parts of the `token` table's statements that TypeORM's query builder
 * cannot express, composed into the builder by TokenRepository. Each says why
 * it is text.
 */

/**
 * `token_limit` read as the database wrote it, beside the parsed column: JSON.parse
 * would round 64-bit integers in it (see Token.limitsText). A cast in a select
 * list is an expression the builder passes through, not a column it knows.
 */
export const LIMITS_AS_TEXT = 'token.token_limit::text';

/**
 * The limits as their JSON text, written as they came: the builder would
 * JSON.stringify a jsonb column's value, and so store a text as a JSON string
 * and round 64-bit integers. `limits` names the statement's parameter.
 */
export const LIMITS_FROM_TEXT = ':limits::jsonb';

const REPLACE_KEY_AND_SECRET = 'DO UPDATE SET token_key = EXCLUDED.token_key, token_hash = EXCLUDED.token_hash, updated_at = EXCLUDED.updated_at';

/** What writing the super token does to an existing one: replaces it, keeps it, or replaces it only when its key or secret differs. */
export type SuperTokenReplace = boolean | 'if-different';

const ON_SUPER_TOKEN_CONFLICT: Record<`${SuperTokenReplace}`, string> = {
  true: REPLACE_KEY_AND_SECRET,
  false: 'DO NOTHING',
  'if-different': `${REPLACE_KEY_AND_SECRET} WHERE token.token_key IS DISTINCT FROM EXCLUDED.token_key OR token.token_hash IS DISTINCT FROM EXCLUDED.token_hash`,
};

/**
 * Writes the super token, whose id is fixed, in one statement (so two servers
 * starting at once cannot both create it). Text because the query builder
 * leaves a value for a database-generated id out of an INSERT, and this
 * statement's conflict is on that id.
 * $1 id, $2 key, $3 secret hash, $4 username, $5 now.
 */
export const superTokenUpsert = (replace: SuperTokenReplace) => `INSERT INTO token (id, token_key, token_hash, token_limit, username, created_at, updated_at)
VALUES ($1, $2, $3, '[]'::jsonb, $4, $5, $5)
ON CONFLICT (id) ${ON_SUPER_TOKEN_CONFLICT[`${replace}`]}
RETURNING id`;

/**
 * Whether a key, and a username, are already a token's, in one statement (the
 * NodeGet import's check before each insert). Text because the query builder
 * cannot select without a FROM. $1 key, $2 username.
 */
export const KEY_OR_USERNAME_TAKEN = `SELECT EXISTS (SELECT 1 FROM token WHERE token_key = $1) AS key_taken,
       EXISTS (SELECT 1 FROM token WHERE username = $2) AS username_taken`;

/*
 * The statements of the `login_throttle` table (LoginThrottleRepository runs
 * them). They are text, not query builder calls: each reads and counts in one
 * statement under the rows' locks, with what the builder cannot express: a
 * data-modifying WITH part, INSERT … ON CONFLICT with array arithmetic in its
 * update, a SKIP LOCKED subquery, a call of the function
 * login_throttle_admit. WITHDRAW_ADDRESS is a plain UPDATE, kept as text beside
 * WITHDRAW, whose first part it is.
 */

/*
 * Every statement locks the address's row before the username's (the
 * username's part reads the address's part first), so that two of them never
 * wait for each other; the prune skips rows it would have to wait for.
 */

/**
 * Counts the attempt against the address and, if the address admits it,
 * against the username: the function login_throttle_admit (migration
 * CreateLoginThrottle), whose statement's plan each connection keeps; sent as
 * text, the same statement was planned again at every login, which cost more
 * than running it (on the embedded database, on the event loop's thread).
 */
export const ADMIT = `SELECT address_blocked_until, username_counted, username_blocked_until
FROM login_throttle_admit($1::text, $2::text, $3::bigint, $4::bigint, $5::integer, $6::bigint, $7::integer, $8::bigint, $9::bigint, $10::bigint)`;

/** Gives the address its attempt back: $1 address key. */
export const WITHDRAW_ADDRESS = `UPDATE login_throttle SET failures = failures - 1 WHERE throttle_key = $1::text AND failures > 0`;

/** Gives the address and the username their attempt back: $1 address key, $2 username key. */
export const WITHDRAW = `
WITH address AS (
  UPDATE login_throttle SET failures = failures - 1 WHERE throttle_key = $1::text AND failures > 0 RETURNING 1
)
UPDATE login_throttle SET failures = failures - 1
WHERE throttle_key = $2::text AND failures > 0 AND (SELECT count(*) FROM address) >= 0`;

/**
 * The address gets its attempt back; the username starts afresh and puts the
 * address first among those it knows.
 * $1 address key, $2 username key, $3 now, $4 known addresses kept, $5 how many.
 */
export const SUCCEEDED = `
WITH address AS (
  UPDATE login_throttle SET failures = failures - 1 WHERE throttle_key = $1::text AND failures > 0 RETURNING 1
)
INSERT INTO login_throttle AS t (throttle_key, known_addresses, expires_at)
SELECT $2::text, ARRAY[$1::text], $3::bigint + $4::bigint FROM (SELECT count(*) FROM address) AS settled
ON CONFLICT (throttle_key) DO UPDATE SET
  failures = 0,
  blocked_until = 0,
  known_addresses = (ARRAY[$1::text] || array_remove(t.known_addresses, $1::text))[1:$5::integer],
  expires_at = GREATEST(t.expires_at, $3::bigint + $4::bigint)`;

/** $1 now, $2 batch. */
export const PRUNE = `
WITH gone AS (
  DELETE FROM login_throttle WHERE throttle_key IN (
    SELECT throttle_key FROM login_throttle WHERE expires_at < $1::bigint ORDER BY expires_at LIMIT $2::integer FOR UPDATE SKIP LOCKED
  )
  RETURNING 1
)
SELECT count(*) AS deleted FROM gone`;

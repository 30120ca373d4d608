import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * One login attempt, counted against its address and, if the address admits
 * it, against its username, in one statement under both rows' locks (the
 * address's first: the username's part reads the address's part). The
 * address's row: a window that is over (and not blocked) starts afresh; a
 * blocked one stays as it is; one that reached its failures is blocked, and
 * its next window starts when the block ends. The username's row is counted
 * only if the address admitted the attempt and the username is not waiting
 * (or the address is familiar to it); past its free failures each one sets a
 * wait that doubles, up to the cap. Returns the address's block (past `p_now`:
 * refused), whether the username counted it (0: refused), and the username's
 * wait as it was when the statement began. A function, so that each connection
 * keeps the statement's plan.
 */
const ADMIT_FUNCTION = `
CREATE FUNCTION login_throttle_admit(
  p_address text, p_username text, p_now bigint, p_window bigint, p_per_address integer, p_block bigint,
  p_per_username integer, p_base bigint, p_cap bigint, p_kept bigint
) RETURNS TABLE (address_blocked_until bigint, username_counted bigint, username_blocked_until bigint)
LANGUAGE plpgsql AS $fn$
#variable_conflict use_column
BEGIN
  RETURN QUERY
WITH address AS (
  INSERT INTO login_throttle AS t (throttle_key, window_start, failures, blocked_until, expires_at)
  VALUES (p_address, p_now, 1, 0, p_now + p_window)
  ON CONFLICT (throttle_key) DO UPDATE SET (window_start, failures, blocked_until, expires_at) = (
    SELECT w, f, b, GREATEST(w + p_window, b)
    FROM (
      SELECT CASE WHEN s.b > p_now THEN s.w WHEN s.f >= p_per_address THEN p_now + p_block ELSE s.w END AS w,
             CASE WHEN s.b > p_now THEN s.f WHEN s.f >= p_per_address THEN 0 ELSE s.f + 1 END AS f,
             CASE WHEN s.b > p_now THEN s.b WHEN s.f >= p_per_address THEN p_now + p_block ELSE s.b END AS b
      FROM (
        SELECT CASE WHEN fresh THEN p_now ELSE t.window_start END AS w,
               CASE WHEN fresh THEN 0 ELSE t.failures END AS f,
               CASE WHEN fresh THEN 0 ELSE t.blocked_until END AS b
        FROM (SELECT p_now - t.window_start >= p_window AND p_now >= t.blocked_until AS fresh) AS x
      ) AS s
    ) AS next
  )
  RETURNING t.blocked_until
), username AS (
  INSERT INTO login_throttle AS t (throttle_key, failures, expires_at)
  SELECT p_username, 1, p_now + p_kept FROM address WHERE address.blocked_until <= p_now
  ON CONFLICT (throttle_key) DO UPDATE SET
    failures = t.failures + 1,
    blocked_until = CASE
      WHEN t.failures + 1 > p_per_username
        THEN p_now + LEAST(p_base << LEAST(t.failures - p_per_username, 40), p_cap)
      ELSE t.blocked_until
    END,
    expires_at = GREATEST(t.expires_at, p_now + p_kept)
  WHERE p_address = ANY (t.known_addresses) OR t.blocked_until <= p_now
  RETURNING 1
)
SELECT (SELECT blocked_until FROM address) AS address_blocked_until,
       (SELECT count(*) FROM username) AS username_counted,
       (SELECT blocked_until FROM login_throttle WHERE throttle_key = p_username) AS username_blocked_until;
END
$fn$`;

/**
 * The login throttle's state (src/token/login-throttle.ts), shared by every
 * instance on the database: one row per client address (`a:`) and one per
 * username (`u:` and a digest of it, so the table holds no usernames people
 * mistyped their password into). Rows are deleted once `expires_at` (ms) has
 * passed; the index finds them. Unlogged: every failed login writes it, and
 * a flush to disk per write would cost more than the rest of the login; what a
 * crash (or a failover to a replica) loses is a few minutes of counts.
 */
export class CreateLoginThrottle1796220000000 implements MigrationInterface {
  name = 'CreateLoginThrottle1796220000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE UNLOGGED TABLE login_throttle (
        throttle_key    varchar(80) COLLATE "C" NOT NULL,
        window_start    bigint NOT NULL DEFAULT 0,
        failures        integer NOT NULL DEFAULT 0,
        blocked_until   bigint NOT NULL DEFAULT 0,
        known_addresses text[] NOT NULL DEFAULT '{}',
        expires_at      bigint NOT NULL,
        CONSTRAINT pk_login_throttle PRIMARY KEY (throttle_key)
      )`);
    await queryRunner.query(`CREATE INDEX ix_login_throttle_expires_at ON login_throttle (expires_at)`);
    await queryRunner.query(ADMIT_FUNCTION);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP FUNCTION login_throttle_admit(text, text, bigint, bigint, integer, bigint, integer, bigint, bigint, bigint)`);
    await queryRunner.query(`DROP INDEX ix_login_throttle_expires_at`);
    await queryRunner.query(`DROP TABLE login_throttle`);
  }
}

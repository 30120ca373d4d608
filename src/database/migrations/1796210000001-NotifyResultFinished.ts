import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Every js_result row that finishes is announced on the channel
 * `jsr_result_finished`, whoever finishes it: this instance, another one, the
 * dead-instance sweep, an importer or an operator's SQL. A row finishes when
 * an UPDATE sets `finish_time`, `result` or `error_message` on a row that had
 * none of them, or when it is INSERTed with one already set.
 *
 * The payload is the ids, comma-separated, in finish order (finish_time, id).
 * The triggers are per statement, with transition tables, so a bulk insert of
 * a million finished rows sends a few thousand notifications of at most 380
 * ids (380 × 21 bytes < 8000, PostgreSQL's payload limit) rather than a
 * million. NOTIFY is delivered at commit, in commit order, so nobody hears of
 * a finish that was rolled back, and finishes are heard in the order they
 * became visible.
 */
export class NotifyResultFinished1796210000001 implements MigrationInterface {
  name = 'NotifyResultFinished1796210000001';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE FUNCTION js_result_notify_finished() RETURNS trigger LANGUAGE plpgsql AS $$
      DECLARE
        ids text;
      BEGIN
        IF TG_OP = 'INSERT' THEN
          FOR ids IN
            SELECT string_agg(id::text, ',' ORDER BY n)
            FROM (SELECT id, row_number() OVER (ORDER BY finish_time NULLS LAST, id) - 1 AS n
                  FROM new_rows
                  WHERE finish_time IS NOT NULL OR result IS NOT NULL OR error_message IS NOT NULL) finished
            GROUP BY n / 380 ORDER BY n / 380
          LOOP
            PERFORM pg_notify('jsr_result_finished', ids);
          END LOOP;
        ELSE
          FOR ids IN
            SELECT string_agg(id::text, ',' ORDER BY n)
            FROM (SELECT nr.id, row_number() OVER (ORDER BY nr.finish_time NULLS LAST, nr.id) - 1 AS n
                  FROM new_rows nr JOIN old_rows o ON o.id = nr.id
                  WHERE (nr.finish_time IS NOT NULL OR nr.result IS NOT NULL OR nr.error_message IS NOT NULL)
                    AND o.finish_time IS NULL AND o.result IS NULL AND o.error_message IS NULL) finished
            GROUP BY n / 380 ORDER BY n / 380
          LOOP
            PERFORM pg_notify('jsr_result_finished', ids);
          END LOOP;
        END IF;
        RETURN NULL;
      END $$`);
    await queryRunner.query(`
      CREATE TRIGGER tr_js_result_inserted_finished AFTER INSERT ON js_result
      REFERENCING NEW TABLE AS new_rows
      FOR EACH STATEMENT EXECUTE FUNCTION js_result_notify_finished()`);
    await queryRunner.query(`
      CREATE TRIGGER tr_js_result_finished AFTER UPDATE ON js_result
      REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
      FOR EACH STATEMENT EXECUTE FUNCTION js_result_notify_finished()`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TRIGGER tr_js_result_finished ON js_result`);
    await queryRunner.query(`DROP TRIGGER tr_js_result_inserted_finished ON js_result`);
    await queryRunner.query(`DROP FUNCTION js_result_notify_finished()`);
  }
}

import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * NodeGet's `crontab` and `crontab_result` tables, column for column, so that
 * its data imports as it is; and one column of this service's own,
 * `schedule_from` (ms): where a job's schedule starts when that is later than
 * its last firing: its creation, its last edit, or its last re-enable. With it
 * a new job does not fire for times before it existed and a re-enabled job
 * does not replay the times it was disabled for, whichever instance fires it,
 * and after a restart too. NULL (imported rows) means "from the last firing".
 *
 * Changes a scheduler must know of are announced on `jsr_crontab_changed`
 * with the job's id. A firing's own UPDATE, which only moves last_run_time,
 * is not announced: at a thousand firings a second every instance would
 * re-read every job it did not fire.
 */
export class CreateCrontab1796500000000 implements MigrationInterface {
  name = 'CreateCrontab1796500000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE crontab (
        id bigserial PRIMARY KEY,
        name varchar NOT NULL,
        enable boolean NOT NULL,
        cron_expression varchar NOT NULL,
        cron_type jsonb NOT NULL,
        last_run_time bigint NULL,
        schedule_from bigint NULL
      )`);
    await queryRunner.query(`CREATE UNIQUE INDEX "idx-crontab-name" ON crontab (name)`);
    await queryRunner.query(`
      CREATE TABLE crontab_result (
        id bigserial PRIMARY KEY,
        cron_id bigint NOT NULL,
        cron_name varchar NOT NULL,
        relative_id bigint NULL,
        run_time bigint NULL,
        success boolean NULL,
        message varchar NULL
      )`);
    await queryRunner.query(`CREATE INDEX "idx-crontab_result-relative_id" ON crontab_result (relative_id)`);
    // Reads are newest first, by job name or alone.
    await queryRunner.query(`CREATE INDEX idx_crontab_result_run_time ON crontab_result (run_time DESC, id DESC)`);
    await queryRunner.query(`CREATE INDEX idx_crontab_result_cron_name_run_time ON crontab_result (cron_name, run_time DESC, id DESC)`);
    await queryRunner.query(`
      CREATE FUNCTION crontab_notify_change() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        PERFORM pg_notify('jsr_crontab_changed', (CASE WHEN TG_OP = 'DELETE' THEN OLD.id ELSE NEW.id END)::text);
        RETURN NULL;
      END $$`);
    await queryRunner.query(`
      CREATE TRIGGER tr_crontab_notify_insert_delete AFTER INSERT OR DELETE ON crontab
      FOR EACH ROW EXECUTE FUNCTION crontab_notify_change()`);
    await queryRunner.query(`
      CREATE TRIGGER tr_crontab_notify_update AFTER UPDATE ON crontab
      FOR EACH ROW WHEN (
        OLD.enable IS DISTINCT FROM NEW.enable OR OLD.cron_expression IS DISTINCT FROM NEW.cron_expression
        OR OLD.cron_type IS DISTINCT FROM NEW.cron_type OR OLD.schedule_from IS DISTINCT FROM NEW.schedule_from
        OR OLD.name IS DISTINCT FROM NEW.name
      ) EXECUTE FUNCTION crontab_notify_change()`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TRIGGER tr_crontab_notify_update ON crontab`);
    await queryRunner.query(`DROP TRIGGER tr_crontab_notify_insert_delete ON crontab`);
    await queryRunner.query(`DROP FUNCTION crontab_notify_change()`);
    await queryRunner.query(`DROP TABLE crontab_result`);
    await queryRunner.query(`DROP TABLE crontab`);
  }
}

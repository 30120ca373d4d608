import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Retention policies (`js-result_retention_set`), and the running count of a
 * sweep: each batch the sweeper deletes adds to it in the same statement, and
 * the sweep turns it into one audit entry at its end. A sweep cut short
 * leaves its count behind, and the next sweep records it, so no deleted row
 * goes unrecorded.
 */
export class CreateRetentionPolicy1796210000000 implements MigrationInterface {
  name = 'CreateRetentionPolicy1796210000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE js_result_retention (
        id         bigint GENERATED ALWAYS AS IDENTITY CONSTRAINT pk_js_result_retention PRIMARY KEY,
        js_worker  varchar COLLATE "C" NOT NULL,
        keep_days  integer CONSTRAINT ck_js_result_retention_keep_days CHECK (keep_days BETWEEN 1 AND 36500),
        keep_last  integer CONSTRAINT ck_js_result_retention_keep_last CHECK (keep_last BETWEEN 1 AND 10000000),
        outcome    varchar(16) NOT NULL CONSTRAINT ck_js_result_retention_outcome CHECK (outcome IN ('any', 'success', 'failure')),
        created_at bigint NOT NULL,
        CONSTRAINT ck_js_result_retention_rule CHECK (keep_days IS NOT NULL OR keep_last IS NOT NULL),
        CONSTRAINT uq_js_result_retention_worker_outcome UNIQUE (js_worker, outcome)
      )`);
    // A single row at most (id 1): one sweep runs at a time.
    await queryRunner.query(`
      CREATE TABLE js_result_retention_sweep (
        id       smallint CONSTRAINT pk_js_result_retention_sweep PRIMARY KEY CONSTRAINT ck_js_result_retention_sweep_single CHECK (id = 1),
        deleted  bigint NOT NULL,
        policies jsonb NOT NULL
      )`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE js_result_retention_sweep`);
    await queryRunner.query(`DROP TABLE js_result_retention`);
  }
}

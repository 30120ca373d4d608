import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * NodeGet's `route_name` (the path a worker will answer HTTP on, unique) and
 * `runtime_clean_time` (ms a reusable runtime may idle) of a JS worker,
 * stored as NodeGet stores them before routes and runtime reuse use them.
 * NULL route names do not collide (PostgreSQL's unique index treats NULLs as
 * distinct), so any number of workers may have none.
 */
export class AddJsWorkerRoute1796215000001 implements MigrationInterface {
  name = 'AddJsWorkerRoute1796215000001';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      ALTER TABLE js_worker
        ADD COLUMN route_name         varchar(128) COLLATE "C",
        ADD COLUMN runtime_clean_time bigint`);
    await queryRunner.query(`CREATE UNIQUE INDEX uq_js_worker_route_name ON js_worker (route_name)`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP INDEX uq_js_worker_route_name`);
    await queryRunner.query(`ALTER TABLE js_worker DROP COLUMN runtime_clean_time, DROP COLUMN route_name`);
  }
}

import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Secrets the server itself keeps, shared by every instance on the database:
 * `page_cursor_key` signs js-result_page cursors, so a cursor issued by one
 * instance is accepted by any other. Generated here, once per database, from
 * PostgreSQL's strong random source (gen_random_uuid: 2 × 122 random bits).
 */
export class CreateServerSecret1796210000002 implements MigrationInterface {
  name = 'CreateServerSecret1796210000002';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE server_secret (
        name  varchar(64) PRIMARY KEY,
        value text NOT NULL
      )`);
    await queryRunner.query(`
      INSERT INTO server_secret (name, value)
      VALUES ('page_cursor_key', replace(gen_random_uuid()::text || gen_random_uuid()::text, '-', ''))`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE server_secret`);
  }
}

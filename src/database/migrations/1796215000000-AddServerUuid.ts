import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The server's UUID (`nodeget-server_uuid`), made once per database like
 * NodeGet's `server_uuid = "auto_gen"`, so that every instance on one
 * database answers the same. It is no secret; it sits beside the page cursor
 * key because server_secret is the table of values made once per database.
 */
export class AddServerUuid1796215000000 implements MigrationInterface {
  name = 'AddServerUuid1796215000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      INSERT INTO server_secret (name, value) VALUES ('server_uuid', gen_random_uuid()::text)
      ON CONFLICT (name) DO NOTHING`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DELETE FROM server_secret WHERE name = 'server_uuid'`);
  }
}

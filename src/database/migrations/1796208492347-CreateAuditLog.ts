import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The audit log of administrative changes and result deletions. Entries are
 * appended and never rewritten: a trigger refuses UPDATE, so not even a bug
 * (or an operator's stray statement through the service's role) can alter
 * what was recorded. DELETE stays allowed, for the retention prune.
 */
export class CreateAuditLog1796208492347 implements MigrationInterface {
  name = 'CreateAuditLog1796208492347';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE audit_log (
        id        bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        at        bigint NOT NULL,
        token_key varchar(64),
        origin    varchar(16) NOT NULL,
        method    varchar(64) NOT NULL,
        params    jsonb NOT NULL,
        affected  bigint NOT NULL
      )`);
    // audit_query reads newest first, optionally for one method; the prune reads the oldest.
    await queryRunner.query(`CREATE INDEX ix_audit_log_at ON audit_log (at DESC, id DESC)`);
    await queryRunner.query(`CREATE INDEX ix_audit_log_method_at ON audit_log (method, at DESC, id DESC)`);
    await queryRunner.query(`
      CREATE FUNCTION audit_log_refuse_update() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        RAISE EXCEPTION 'audit_log entries are never rewritten' USING ERRCODE = 'insufficient_privilege';
      END $$`);
    await queryRunner.query(`
      CREATE TRIGGER tr_audit_log_append_only BEFORE UPDATE ON audit_log
      FOR EACH STATEMENT EXECUTE FUNCTION audit_log_refuse_update()`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE audit_log`);
    await queryRunner.query(`DROP FUNCTION audit_log_refuse_update()`);
  }
}

import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Every change to a stored token is announced on the channel
 * `jsr_token_changed` with the token's id, whoever makes it: a JSON-RPC call,
 * the CLI, another instance, an import, or an operator's own SQL. Running
 * instances LISTEN and drop that token from their caches. NOTIFY is delivered
 * at commit, so nobody hears of a change that was rolled back.
 */
export class NotifyTokenChanges1796208492348 implements MigrationInterface {
  name = 'NotifyTokenChanges1796208492348';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE FUNCTION token_notify_change() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        PERFORM pg_notify('jsr_token_changed', OLD.id::text);
        RETURN NULL;
      END $$`);
    await queryRunner.query(`
      CREATE TRIGGER tr_token_notify_change AFTER UPDATE OR DELETE ON token
      FOR EACH ROW EXECUTE FUNCTION token_notify_change()`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TRIGGER tr_token_notify_change ON token`);
    await queryRunner.query(`DROP FUNCTION token_notify_change()`);
  }
}

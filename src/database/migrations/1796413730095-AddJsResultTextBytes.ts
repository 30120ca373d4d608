import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The length in bytes of `param` and `result` as the JSON text a reply sends,
 * and a bound on that of `error_message`, kept by the database beside each row. A short read holds each value to its
 * share of the reply budget before sending it (see valueShare); measuring
 * the text at read time converted every value twice per read, and the
 * database keeps these exact on every insert and update, whoever writes.
 * Adding them rewrites js_result under an exclusive lock: plan the upgrade
 * of a large table (ARCHITECTURE.md has the measured time per million rows).
 */
/**
 * The most bytes an error message can take as a JSON string: each byte at most
 * six (a control character becomes \u00XX), and the quotes. to_json, which
 * would give the exact length, is not immutable, so a generated column cannot
 * use it. Held within int4, which is what a share is compared as.
 */
const ERROR_MESSAGE_JSON_BOUND = 'least(6::bigint * octet_length(error_message) + 2, 2147483647)::integer';

export class AddJsResultTextBytes1796413730095 implements MigrationInterface {
  name = 'AddJsResultTextBytes1796413730095';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      ALTER TABLE js_result
        ADD COLUMN param_text_bytes  integer GENERATED ALWAYS AS (octet_length(param::text)) STORED,
        ADD COLUMN result_text_bytes integer GENERATED ALWAYS AS (octet_length(result::text)) STORED,
        ADD COLUMN error_message_text_bytes integer GENERATED ALWAYS AS (${ERROR_MESSAGE_JSON_BOUND}) STORED`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE js_result DROP COLUMN error_message_text_bytes, DROP COLUMN result_text_bytes, DROP COLUMN param_text_bytes`);
  }
}

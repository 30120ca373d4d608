import { Column, Entity, Index, PrimaryColumn, Generated } from 'typeorm';
import { bigintAsNumber } from '../common/bigint.transformer';

/**
 * A column the database computes (a generated column, made by the migration):
 * never written here, and not read unless a statement names it. Declared
 * without TypeORM's generatedType, which would make it keep a
 * typeorm_metadata table for schema synchronisation this project never runs.
 */
const MEASURED_BY_DATABASE = { type: 'integer', nullable: true, insert: false, update: false, select: false } as const;

/**
 * One run of a JS worker. Table and column names are part of the contract:
 * operators query this table directly and other writers insert into it.
 * The indexes are created by migrations (they need DESC and a partial
 * predicate, which decorators cannot express), hence `synchronize: false`.
 */
@Entity({ name: 'js_result' })
@Index('idx_js_result_worker_newest', { synchronize: false })
@Index('idx_js_result_newest', { synchronize: false })
@Index('idx_js_result_worker_id', { synchronize: false })
export class JsResult {
  @PrimaryColumn({ name: 'id', type: 'bigint', transformer: bigintAsNumber })
  @Generated('increment') // the migration makes it an identity column; this only tells TypeORM the database assigns it
  id: number;

  @Column({ name: 'js_worker_id', type: 'bigint', transformer: bigintAsNumber })
  jsWorkerId: number;

  /** Byte-order collation, so that names sharing a prefix are adjacent in the index. */
  @Column({ name: 'js_worker_name', type: 'varchar', collation: 'C' })
  jsWorkerName: string;

  @Column({ name: 'run_type', type: 'varchar' })
  runType: string;

  @Column({ name: 'start_time', type: 'bigint', nullable: true, transformer: bigintAsNumber })
  startTime: number | null;

  @Column({ name: 'finish_time', type: 'bigint', nullable: true, transformer: bigintAsNumber })
  finishTime: number | null;

  @Column({ name: 'param', type: 'jsonb', nullable: true })
  param: unknown;

  @Column({ name: 'result', type: 'jsonb', nullable: true })
  result: unknown;

  @Column({ name: 'error_message', type: 'text', nullable: true })
  errorMessage: string | null;

  /** Bytes of `param` as JSON text, kept by the database: what a short read measures. */
  @Column({ ...MEASURED_BY_DATABASE, name: 'param_text_bytes' })
  paramTextBytes: number | null;

  /** Bytes of `result` as JSON text, kept by the database as paramTextBytes is. */
  @Column({ ...MEASURED_BY_DATABASE, name: 'result_text_bytes' })
  resultTextBytes: number | null;

  /** The most bytes `error_message` can take as a JSON string, kept by the database as paramTextBytes is. */
  @Column({ ...MEASURED_BY_DATABASE, name: 'error_message_text_bytes' })
  errorMessageTextBytes: number | null;
}

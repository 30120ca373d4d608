import { Column, Entity, Generated, PrimaryColumn } from 'typeorm';
import { bigintAsNumber } from '../common/bigint.transformer';
import type { Outcome } from './retention.params';

/**
 * A retention policy: results of the workers `js_worker` matches, in the
 * given outcome, expire after `keep_days` or beyond the newest `keep_last`.
 * One policy per pattern and outcome (setting it again replaces it).
 */
@Entity({ name: 'js_result_retention' })
export class RetentionPolicy {
  @PrimaryColumn({ name: 'id', type: 'bigint', transformer: bigintAsNumber })
  @Generated('increment') // an identity column (see the migration); this only tells TypeORM the database assigns it
  id: number;

  /** A worker pattern as in token limits; byte order, like js_result.js_worker_name. */
  @Column({ name: 'js_worker', type: 'varchar', collation: 'C' })
  jsWorker: string;

  @Column({ name: 'keep_days', type: 'integer', nullable: true })
  keepDays: number | null;

  @Column({ name: 'keep_last', type: 'integer', nullable: true })
  keepLast: number | null;

  @Column({ name: 'outcome', type: 'varchar', length: 16 })
  outcome: Outcome;

  @Column({ name: 'created_at', type: 'bigint', transformer: bigintAsNumber })
  createdAt: number;
}

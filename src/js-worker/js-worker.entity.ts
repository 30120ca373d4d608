import { Column, Entity, Generated, PrimaryColumn } from 'typeorm';
import { bigintAsNumber } from '../common/bigint.transformer';

/**
 * A stored JS worker: its script (decoded source), the env its runs see and its
 * limits. A NULL limit means "the default" (DEFAULT_LIMITS), so a worker keeps
 * following the defaults unless it was given its own. The table is created by
 * a migration (`synchronize: false`).
 */
@Entity({ name: 'js_worker' })
export class JsWorker {
  @PrimaryColumn({ name: 'id', type: 'bigint', transformer: bigintAsNumber })
  @Generated('increment') // an identity column, made by the migration
  id: number;

  /** Byte-order collation, like js_result.js_worker_name: names compare and sort the same in both tables. */
  @Column({ name: 'name', type: 'varchar', collation: 'C', unique: true })
  name: string;

  @Column({ name: 'description', type: 'text', nullable: true })
  description: string | null;

  /** NodeGet's route name (unique, `[A-Za-z0-9._-]`, at most 128); stored for the worker routes to come. */
  @Column({ name: 'route_name', type: 'varchar', length: 128, collation: 'C', nullable: true })
  routeName: string | null;

  /** NodeGet's idle time (ms) after which a reusable runtime is dropped; stored for runtime reuse to come. */
  @Column({ name: 'runtime_clean_time', type: 'bigint', nullable: true, transformer: bigintAsNumber })
  runtimeCleanTime: number | null;

  @Column({ name: 'js_script', type: 'text' })
  jsScript: string;

  @Column({ name: 'env', type: 'jsonb', default: () => "'{}'::jsonb" })
  env: Record<string, unknown>;

  /** Milliseconds. */
  @Column({ name: 'max_run_time', type: 'integer', nullable: true })
  maxRunTime: number | null;

  /** Bytes. */
  @Column({ name: 'max_stack_size', type: 'integer', nullable: true })
  maxStackSize: number | null;

  /** Bytes. */
  @Column({ name: 'max_heap_size', type: 'integer', nullable: true })
  maxHeapSize: number | null;

  @Column({ name: 'created_at', type: 'bigint', transformer: bigintAsNumber })
  createdAt: number;

  @Column({ name: 'updated_at', type: 'bigint', transformer: bigintAsNumber })
  updatedAt: number;
}

import { Injectable } from '@nestjs/common';
import type { SelectQueryBuilder } from 'typeorm';
import { type AuditAction, audited } from '../database/audited-change';
import { TurnBatcher } from '../common/turn-batcher';
import { Database } from '../database/database';
import type { CompanionStep } from '../js-result/js-result.repository';
import { statementOf } from '../database/statement';
import { fill, type Shape, Slot, toShape } from '../database/statement-shapes';
import { stringifyJson } from '../json-rpc/json-rpc.codec';
import { JsWorker } from './js-worker.entity';
import { ENV_AS_JSONB, LOCK_INSTANCE, NEXT_INSTANCE_ID, UNLOCK_INSTANCE } from './js-worker.fragments';

type WorkerRow = Record<string, unknown>;

/** Names read by one statement at most. */
const MAX_NAMES_READ = 256;

/** A worker's row under its column names (RETURNING *, to_jsonb(w), or a read of every column) as an entity. */
export function workerFromRow(row: WorkerRow): JsWorker {
  const worker = new JsWorker();
  worker.id = Number(row.id);
  worker.name = row.name as string;
  worker.description = (row.description as string | null) ?? null;
  worker.routeName = (row.route_name as string | null) ?? null;
  worker.runtimeCleanTime = row.runtime_clean_time == null ? null : Number(row.runtime_clean_time);
  worker.jsScript = row.js_script as string;
  worker.env = (row.env as Record<string, unknown> | null) ?? {};
  worker.maxRunTime = row.max_run_time === null ? null : Number(row.max_run_time);
  worker.maxStackSize = row.max_stack_size === null ? null : Number(row.max_stack_size);
  worker.maxHeapSize = row.max_heap_size === null ? null : Number(row.max_heap_size);
  worker.createdAt = Number(row.created_at);
  worker.updatedAt = Number(row.updated_at);
  return worker;
}

/** A new worker's fields; `env` is stored as its exact JSON text. */
export type NewWorker = Omit<JsWorker, 'id' | 'createdAt' | 'updatedAt'>;

/** The fields an update changes (undefined: kept) and the time it is made. */
export type WorkerChanges = Partial<Omit<JsWorker, 'id' | 'name' | 'createdAt' | 'updatedAt'>> & { updatedAt: number };

/**
 * The `js_worker` table, and the instance numbers (js_worker_instance_seq and
 * their advisory locks) runs are tracked under. Changes carry their audit
 * entry in the same statement (audited); reads of one worker are built once
 * and run with the name as their only value.
 */
@Injectable()
export class JsWorkerRepository {
  private reads?: Record<'byName' | 'byNames' | 'byRouteName' | 'names', Shape>;
  /** Reads by name made in one turn (runs as they arrive), one statement for many: see readByNames. */
  private readonly byNameReads = new TurnBatcher<string, WorkerRow | undefined>(
    (names) => this.readByNames(names),
    (name) => this.db.first<WorkerRow>(fill(this.shapes().byName, [name])),
    { maxBatch: MAX_NAMES_READ, maxInFlight: 2 },
  );

  constructor(private readonly db: Database) {}

  async insert(worker: NewWorker, now: number, action: AuditAction): Promise<JsWorker> {
    const { env, ...fields } = worker;
    const qb = this.db.dataSource
      .createQueryBuilder()
      .insert()
      .into(JsWorker)
      .values({ ...fields, env: () => ENV_AS_JSONB, createdAt: now, updatedAt: now })
      .setParameter('env', stringifyJson(env))
      .returning('*');
    const [row] = await this.db.rows<WorkerRow>(audited(statementOf(qb), action));
    return workerFromRow(row);
  }

  /** The worker as changed; undefined when there is none of that name. */
  async update(name: string, changes: WorkerChanges, action: AuditAction): Promise<JsWorker | undefined> {
    const { env, ...fields } = changes;
    const set = Object.fromEntries(Object.entries(fields).filter(([, value]) => value !== undefined));
    const qb = this.db.dataSource
      .createQueryBuilder()
      .update(JsWorker)
      .set(env === undefined ? set : { ...set, env: () => ENV_AS_JSONB })
      .where('name = :name', { name })
      .returning('*');
    if (env !== undefined) qb.setParameter('env', stringifyJson(env));
    const [row] = await this.db.rows<WorkerRow>(audited(statementOf(qb), action));
    return row === undefined ? undefined : workerFromRow(row);
  }

  /** Whether there was a worker of that name to delete. */
  async delete(name: string, action: AuditAction): Promise<boolean> {
    const qb = this.db.dataSource.createQueryBuilder().delete().from(JsWorker).where('name = :name', { name }).returning('id');
    return (await this.db.rows<WorkerRow>(audited(statementOf(qb), action))).length > 0;
  }

  async findByName(name: string): Promise<JsWorker | undefined> {
    const row = await this.byNameReads.add(name);
    // Each caller gets its own entity, even when a batch read the row once for several.
    return row === undefined ? undefined : workerFromRow(row);
  }

  /** The rows of `names` (repeats read once), in the order of `names`; undefined for a name with no worker. */
  private async readByNames(names: string[]): Promise<(WorkerRow | undefined)[]> {
    const rows = await this.db.rows<WorkerRow>(fill(this.shapes().byNames, [[...new Set(names)]]));
    const byName = new Map(rows.map((row) => [row.name as string, row]));
    return names.map((name) => byName.get(name));
  }

  /**
   * For a statement that starts runs by worker name (JsResultRepository.startWorkerRuns): the read
   * of `names` as a WITH part, every column under its own name (read back by workerFromRow), so the
   * run's row and the code it runs come from one snapshot.
   */
  byNamesStep(names: readonly string[]): CompanionStep {
    return fill(this.shapes().byNames, [[...new Set(names)]]);
  }

  async findByRouteName(routeName: string): Promise<JsWorker | undefined> {
    const row = await this.db.first<WorkerRow>(fill(this.shapes().byRouteName, [routeName]));
    return row === undefined ? undefined : workerFromRow(row);
  }

  /** Every worker's name, in byte order (the column's collation is "C"). */
  async names(): Promise<string[]> {
    return (await this.db.rows<{ name: string }>(fill(this.shapes().names, []))).map((row) => row.name);
  }

  /** A new instance number; the sequence cycles, so a number may come back once its holder is long gone. */
  async nextInstanceId(): Promise<number> {
    const row = await this.db.first<{ id: number }>({ text: NEXT_INSTANCE_ID, values: [] });
    return Number(row!.id);
  }

  /**
   * Takes the instance's lock on the pool. Only for the embedded database,
   * whose one session lives as long as the process; on PostgreSQL the lock
   * needs a connection of its own (JsWorkerInstance).
   */
  async lockInstance(lockClass: number, id: number): Promise<void> {
    await this.db.rows({ text: LOCK_INSTANCE, values: [lockClass, id] });
  }

  async unlockInstance(lockClass: number, id: number): Promise<void> {
    await this.db.rows({ text: UNLOCK_INSTANCE, values: [lockClass, id] });
  }

  /** The reads, built once (the entity's metadata exists once the DataSource is open) and run with each call's value. */
  private shapes(): Record<'byName' | 'byNames' | 'byRouteName' | 'names', Shape> {
    this.reads ??= {
      byName: this.named(this.everyColumn().where('w.name = :name', { name: new Slot(0) })),
      byNames: this.named(this.everyColumn().where('w.name = ANY(:names)', { names: new Slot(0) })),
      byRouteName: this.named(this.everyColumn().where('w.routeName = :routeName', { routeName: new Slot(0) }).limit(1)),
      names: this.named(this.db.select(JsWorker, 'w').select('w.name', 'name').orderBy('w.name')),
    };
    return this.reads;
  }

  /** A read runs on every run of a worker: parsed once per connection. */
  private named(qb: SelectQueryBuilder<JsWorker>): Shape {
    const shape = toShape(qb);
    return { ...shape, text: this.db.prepare(shape.text, { named: true }) };
  }

  /** Every column under its own name, so reads answer the rows RETURNING * does. */
  private everyColumn(): SelectQueryBuilder<JsWorker> {
    const qb = this.db.select(JsWorker, 'w').select([]);
    for (const column of this.db.dataSource.getMetadata(JsWorker).columns) qb.addSelect(`w.${column.propertyPath}`, column.databaseName);
    return qb;
  }
}

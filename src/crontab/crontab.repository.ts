import { Injectable } from '@nestjs/common';
import type { SelectQueryBuilder } from 'typeorm';
import { type AuditAction, audited } from '../database/audited-change';
import { Database } from '../database/database';
import { fill, type Shape, Slot, toShape } from '../database/statement-shapes';
import { statementOf } from '../database/statement';
import { Crontab } from './crontab.entity';
import { CRON_TYPE_AS_JSONB, INSERT_WITHIN_MAX_JOBS, SCHEDULE_FROM_ON_ENABLE } from './crontab.fragments';

type Row = Record<string, unknown>;

/** What the scheduler keeps of a job. */
export interface ScheduledRow {
  id: number;
  name: string;
  enable: boolean;
  cronExpression: string;
  lastRunTime: number | null;
  scheduleFrom: number | null;
}

/** The columns of a job as the methods answer it, under their own names. */
const RECORD_COLUMNS: [keyof Crontab, string][] = [
  ['id', 'id'],
  ['name', 'name'],
  ['enable', 'enable'],
  ['cronExpression', 'cron_expression'],
  ['cronType', 'cron_type'],
  ['lastRunTime', 'last_run_time'],
];
const SCHEDULED_COLUMNS: (keyof Crontab)[] = ['id', 'name', 'enable', 'cronExpression', 'lastRunTime', 'scheduleFrom'];

const num = (value: unknown) => (value === null || value === undefined ? null : Number(value));

function toScheduled(row: Row): ScheduledRow {
  return {
    id: Number(row.id),
    name: row.name as string,
    enable: row.enable as boolean,
    cronExpression: row.cronExpression as string,
    lastRunTime: num(row.lastRunTime),
    scheduleFrom: num(row.scheduleFrom),
  };
}

type Reads = Record<'list' | 'find' | 'scheduled' | 'scheduledOf', Shape>;

/**
 * The `crontab` table. Every change names the job by its unique name, as the
 * methods do, and carries its audit entry in the same statement (audited).
 * Reads are built once and run with each call's values.
 */
@Injectable()
export class CrontabRepository {
  private reads?: Reads;

  constructor(private readonly db: Database) {}

  /** Every job, by id, with `cron_type` as the database's JSON text, so 64-bit integers in its params stay exact. */
  list(): Promise<Row[]> {
    return this.db.rows(fill(this.shapes().list, []));
  }

  find(name: string): Promise<Row | undefined> {
    return this.db.first(fill(this.shapes().find, [name]));
  }

  /**
   * A new job, enabled, scheduled from `now`; none when `maxJobs` are stored
   * already (the count and the insert are one statement).
   */
  async insert(name: string, expression: string, cronTypeJson: string, now: number, maxJobs: number, action: AuditAction): Promise<number | undefined> {
    const [row] = await this.db.rows(audited({ text: INSERT_WITHIN_MAX_JOBS, values: [name, expression, cronTypeJson, now, maxJobs] }, action));
    return row === undefined ? undefined : Number(row.id);
  }

  /** Replaces expression and kind; the schedule starts again from the edit. */
  async update(name: string, expression: string, cronTypeJson: string, now: number, action: AuditAction): Promise<number | undefined> {
    const qb = this.db.dataSource
      .createQueryBuilder()
      .update(Crontab)
      .set({ cronExpression: expression, cronType: () => CRON_TYPE_AS_JSONB, scheduleFrom: now })
      .where('name = :name', { name, cronType: cronTypeJson })
      .returning('id');
    const [row] = await this.db.rows<Row>(audited(statementOf(qb), action));
    return row === undefined ? undefined : Number(row.id);
  }

  async delete(name: string, action: AuditAction): Promise<boolean> {
    const qb = this.db.dataSource.createQueryBuilder().delete().from(Crontab).where('name = :name', { name }).returning('id');
    return (await this.db.rows<Row>(audited(statementOf(qb), action))).length > 0;
  }

  /** A disabled job that is enabled is scheduled from `now`: the times it was disabled for are not replayed. */
  async setEnable(name: string, enable: boolean, now: number, action: AuditAction): Promise<{ id: number; enable: boolean } | undefined> {
    const qb = this.db.dataSource
      .createQueryBuilder()
      .update(Crontab)
      .set({ enable, scheduleFrom: () => SCHEDULE_FROM_ON_ENABLE })
      .where('name = :name', { name, enable, now })
      .returning('id, enable');
    const [row] = await this.db.rows<Row>(audited(statementOf(qb), action));
    return row === undefined ? undefined : { id: Number(row.id), enable: row.enable as boolean };
  }

  /** The jobs as the scheduler needs them: all, or those of `ids`. */
  async scheduled(ids?: readonly number[]): Promise<ScheduledRow[]> {
    const statement = ids === undefined ? fill(this.shapes().scheduled, []) : fill(this.shapes().scheduledOf, [ids.map(String)]);
    return (await this.db.rows(statement)).map(toScheduled);
  }

  private shapes(): Reads {
    this.reads ??= {
      // cron_type as text: the reply writes it as the database gave it (crontabsJsonText).
      list: toShape(this.columns(RECORD_COLUMNS.filter(([property]) => property !== 'cronType')).addSelect('CAST(c.cronType AS text)', 'cron_type').orderBy('c.id')),
      find: toShape(this.columns(RECORD_COLUMNS).where('c.name = :name', { name: new Slot(0) })),
      scheduled: toShape(this.columns(SCHEDULED_COLUMNS.map((property) => [property, property]))),
      scheduledOf: toShape(this.columns(SCHEDULED_COLUMNS.map((property) => [property, property])).where('c.id = ANY(:ids::bigint[])', { ids: new Slot(0) })),
    };
    return this.reads;
  }

  private columns(columns: readonly [keyof Crontab, string][]): SelectQueryBuilder<Crontab> {
    const qb = this.db.select(Crontab, 'c').select([]);
    for (const [property, alias] of columns) qb.addSelect(`c.${property}`, alias);
    return qb;
  }
}

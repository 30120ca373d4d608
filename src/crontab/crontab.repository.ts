import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';
import { type AuditAction, audited } from '../audit/audit.statements';
import { withDatabase } from '../database/database.errors';
import type { Statement } from '../database/statement';
import { queryRows } from '../js-worker/js-worker.sql';

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

const RECORD_COLUMNS = 'id, name, enable, cron_expression, cron_type, last_run_time';
const SCHEDULED_COLUMNS = 'id, name, enable, cron_expression, last_run_time, schedule_from';

const num = (value: unknown) => (value === null || value === undefined ? null : Number(value));

function toScheduled(row: Row): ScheduledRow {
  return {
    id: Number(row.id),
    name: row.name as string,
    enable: row.enable as boolean,
    cronExpression: row.cron_expression as string,
    lastRunTime: num(row.last_run_time),
    scheduleFrom: num(row.schedule_from),
  };
}

/** The `crontab` table. Every change names the job by its unique name, as the methods do. */
@Injectable()
export class CrontabRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  /** Every job, by id, with `cron_type` as the database's JSON text, so 64-bit integers in its params stay exact. */
  list(): Promise<Row[]> {
    return this.rows({
      text: 'SELECT id, name, enable, cron_expression, cron_type::text AS cron_type, last_run_time FROM crontab ORDER BY id',
      values: [],
    });
  }

  async find(name: string): Promise<Row | undefined> {
    const [row] = await this.rows({ text: `SELECT ${RECORD_COLUMNS} FROM crontab WHERE name = $1`, values: [name] });
    return row;
  }

  /**
   * A new job, enabled, scheduled from `now`; none when `maxJobs` are stored
   * already (the count and the insert are one statement).
   */
  async insert(name: string, expression: string, cronTypeJson: string, now: number, maxJobs: number, action: AuditAction): Promise<number | undefined> {
    const [row] = await this.rows(
      audited(
        {
          text: `INSERT INTO crontab (name, enable, cron_expression, cron_type, last_run_time, schedule_from)
                 SELECT $1, true, $2, $3::jsonb, NULL, $4 WHERE (SELECT count(*) FROM crontab) < $5
                 RETURNING id`,
          values: [name, expression, cronTypeJson, now, maxJobs],
        },
        action,
      ),
    );
    return row === undefined ? undefined : Number(row.id);
  }

  /** Replaces expression and kind; the schedule starts again from the edit. */
  async update(name: string, expression: string, cronTypeJson: string, now: number, action: AuditAction): Promise<number | undefined> {
    const [row] = await this.rows(
      audited(
        {
          text: `UPDATE crontab SET cron_expression = $2, cron_type = $3::jsonb, schedule_from = $4 WHERE name = $1 RETURNING id`,
          values: [name, expression, cronTypeJson, now],
        },
        action,
      ),
    );
    return row === undefined ? undefined : Number(row.id);
  }

  async delete(name: string, action: AuditAction): Promise<boolean> {
    const rows = await this.rows(audited({ text: 'DELETE FROM crontab WHERE name = $1 RETURNING id', values: [name] }, action));
    return rows.length > 0;
  }

  /** A disabled job that is enabled is scheduled from `now`: the times it was disabled for are not replayed. */
  async setEnable(name: string, enable: boolean, now: number, action: AuditAction): Promise<{ id: number; enable: boolean } | undefined> {
    const [row] = await this.rows(
      audited(
        {
          text: `UPDATE crontab SET enable = $2,
                   schedule_from = CASE WHEN NOT enable AND $2 THEN $3::bigint ELSE schedule_from END
                 WHERE name = $1 RETURNING id, enable`,
          values: [name, enable, now],
        },
        action,
      ),
    );
    return row === undefined ? undefined : { id: Number(row.id), enable: row.enable as boolean };
  }

  /** The jobs as the scheduler needs them: all, or those of `ids`. */
  async scheduled(ids?: readonly number[]): Promise<ScheduledRow[]> {
    const rows =
      ids === undefined
        ? await this.rows({ text: `SELECT ${SCHEDULED_COLUMNS} FROM crontab`, values: [] })
        : await this.rows({ text: `SELECT ${SCHEDULED_COLUMNS} FROM crontab WHERE id = ANY($1::bigint[])`, values: [ids.map(String)] });
    return rows.map(toScheduled);
  }

  private rows(statement: Statement): Promise<Row[]> {
    return withDatabase(() => queryRows(this.dataSource, statement.text, statement.values));
  }
}

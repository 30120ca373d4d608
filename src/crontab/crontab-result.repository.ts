import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource, SelectQueryBuilder } from 'typeorm';
import { type AuditAction, audited } from '../audit/audit.statements';
import { withDatabase } from '../database/database.errors';
import { applyConditionTerms } from '../js-result/conditions/condition.terms';
import { queryRows } from '../js-worker/js-worker.sql';
import type { JobNameAccess } from './crontab.access';
import { CrontabResult } from './crontab-result.entity';
import { CRONTAB_RESULT_TERMS, type CrontabResultFilter } from './crontab-result.conditions';
import { type CrontabResultRecord, toCrontabResultRecord } from './crontab.record';

/**
 * The `crontab_result` table: reads and deletes by conditions (the js-result
 * machinery's terms, applied to a SelectQueryBuilder), newest first. Rows are
 * written only by a firing (crontab.firings.ts) and by the import.
 */
@Injectable()
export class CrontabResultRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  async query(filters: readonly CrontabResultFilter[], access: JobNameAccess, limit: number): Promise<CrontabResultRecord[]> {
    const qb = this.matching(filters, access)
      .select(['r.id AS id', 'r.cron_id AS cron_id', 'r.cron_name AS cron_name', 'r.run_time AS run_time'])
      .addSelect(['r.relative_id AS relative_id', 'r.success AS success', 'r.message AS message'])
      .orderBy('r.runTime', 'DESC')
      .addOrderBy('r.id', 'DESC')
      .limit(limit);
    const [text, values] = qb.getQueryAndParameters();
    const rows = await withDatabase(() => this.dataSource.query<Record<string, unknown>[]>(text, values));
    return rows.map(toCrontabResultRecord);
  }

  /** Deletes the matches (the newest `limit` of them, when given) in one statement with its audit entry. */
  async delete(filters: readonly CrontabResultFilter[], access: JobNameAccess, limit: number | undefined, action: AuditAction): Promise<number> {
    const chosen = this.matching(filters, access).select('r.id');
    if (limit !== undefined) chosen.orderBy('r.runTime', 'DESC').addOrderBy('r.id', 'DESC').limit(limit);
    const [text, values] = chosen.getQueryAndParameters();
    const statement = audited({ text: `DELETE FROM crontab_result WHERE id IN (${text}) RETURNING id`, values }, action, 'count');
    const [row] = await withDatabase(() => queryRows<{ affected: string | number }>(this.dataSource, statement.text, statement.values));
    return Number(row.affected);
  }

  private matching(filters: readonly CrontabResultFilter[], access: JobNameAccess): SelectQueryBuilder<CrontabResult> {
    const qb = this.dataSource.createQueryBuilder(CrontabResult, 'r');
    applyConditionTerms(qb, filters, CRONTAB_RESULT_TERMS, { alias: 'r' });
    if (access.kind === 'some') {
      // A prefix is compared as text, so `%`, `_` and `\` in it are literal.
      qb.andWhere(
        '(r.cronName = ANY(:jobNames::varchar[]) OR EXISTS (SELECT 1 FROM unnest(:jobPrefixes::text[]) AS p(prefix) WHERE starts_with(r.cronName, p.prefix)))',
        { jobNames: access.names, jobPrefixes: access.prefixes },
      );
    }
    return qb;
  }
}

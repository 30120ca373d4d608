import { Injectable } from '@nestjs/common';
import type { SelectQueryBuilder } from 'typeorm';
import { type AuditAction, audited } from '../database/audited-change';
import { Database } from '../database/database';
import { applyConditionTerms } from '../js-result/conditions/condition.terms';
import type { JobNameAccess } from './crontab.access';
import { CrontabResult } from './crontab-result.entity';
import { CRONTAB_RESULT_TERMS, type CrontabResultFilter } from './crontab-result.conditions';
import { JOB_NAME_SCOPE } from './crontab-result.fragments';
import { type CrontabResultRecord, toCrontabResultRecord } from './crontab.record';

/**
 * The `crontab_result` table: reads and deletes by conditions (the js-result
 * machinery's terms, applied to a SelectQueryBuilder), newest first. Rows are
 * written only by a firing (crontab.firings.ts) and by the import.
 */
@Injectable()
export class CrontabResultRepository {
  constructor(private readonly db: Database) {}

  async query(filters: readonly CrontabResultFilter[], access: JobNameAccess, limit: number): Promise<CrontabResultRecord[]> {
    const qb = this.matching(filters, access)
      .select(['r.id AS id', 'r.cron_id AS cron_id', 'r.cron_name AS cron_name', 'r.run_time AS run_time'])
      .addSelect(['r.relative_id AS relative_id', 'r.success AS success', 'r.message AS message'])
      .orderBy('r.runTime', 'DESC')
      .addOrderBy('r.id', 'DESC')
      .limit(limit);
    const [text, values] = qb.getQueryAndParameters();
    return (await this.db.rows({ text, values })).map(toCrontabResultRecord);
  }

  /** Deletes the matches (the newest `limit` of them, when given) in one statement with its audit entry. */
  async delete(filters: readonly CrontabResultFilter[], access: JobNameAccess, limit: number | undefined, action: AuditAction): Promise<number> {
    const chosen = this.matching(filters, access).select('r.id');
    if (limit !== undefined) chosen.orderBy('r.runTime', 'DESC').addOrderBy('r.id', 'DESC').limit(limit);
    const [text, values] = this.db.dataSource
      .createQueryBuilder()
      .delete()
      .from(CrontabResult)
      .where(`id IN (${chosen.getQuery()})`)
      .setParameters(chosen.getParameters())
      .returning('id')
      .getQueryAndParameters();
    const [row] = await this.db.rows<{ affected: string | number }>(audited({ text, values }, action, 'count'));
    return Number(row.affected);
  }

  private matching(filters: readonly CrontabResultFilter[], access: JobNameAccess): SelectQueryBuilder<CrontabResult> {
    const qb = this.db.select(CrontabResult, 'r');
    applyConditionTerms(qb, filters, CRONTAB_RESULT_TERMS, { alias: 'r' });
    if (access.kind === 'patterns') {
      qb.andWhere(JOB_NAME_SCOPE, { jobNames: access.names, jobPrefixes: access.prefixes });
    }
    return qb;
  }
}

import { Injectable } from '@nestjs/common';
import { type AuditAction, audited } from '../database/audited-change';
import { Database, type StatementRunner } from '../database/database';
import { NOW_MS_SQL, statementOf } from '../database/statement';
import { RetentionPolicy } from './retention-policy.entity';
import type { Outcome } from './retention.params';

/** A policy as its table returns it (id as text: exact for 64-bit). */
export interface PolicyRow {
  id: string;
  js_worker: string;
  keep_days: number | null;
  keep_last: number | null;
  outcome: Outcome;
}

/** id as text, so a 64-bit id stays exact; the columns as the table names them. */
const POLICY_COLUMNS = 'id::text AS id, js_worker, keep_days, keep_last, outcome';

export interface PolicyValues {
  pattern: string;
  keepDays: number | null;
  keepLast: number | null;
  outcome: Outcome;
}

/**
 * The retention_policy table (`js_result_retention`): the only code that
 * reads or writes it, through TypeORM's QueryBuilder. Changes are audited in
 * their own statement (audited wraps the built text).
 */
@Injectable()
export class RetentionPolicyRepository {
  constructor(private readonly database: Database) {}

  /** Creates the policy for its pattern and outcome, or replaces the one there is (keeping its id). */
  async upsert(policy: PolicyValues, action: AuditAction): Promise<PolicyRow> {
    const qb = this.database.dataSource
      .createQueryBuilder()
      .insert()
      .into(RetentionPolicy)
      .values({ jsWorker: policy.pattern, keepDays: policy.keepDays, keepLast: policy.keepLast, outcome: policy.outcome, createdAt: () => NOW_MS_SQL })
      .orUpdate(['keep_days', 'keep_last'], ['js_worker', 'outcome'])
      .returning(POLICY_COLUMNS);
    const [row] = await this.database.rows<PolicyRow>(audited(statementOf(qb), action));
    return row;
  }

  /** Every policy, oldest first. */
  all(on: StatementRunner = this.database): Promise<PolicyRow[]> {
    return on.rows<PolicyRow>(statementOf(this.policies().select(POLICY_COLUMNS).orderBy('p.id')));
  }

  /** The pattern of policy `id` (decimal text within int8), if it exists. */
  async patternOf(id: string): Promise<string | undefined> {
    const row = await this.database.first<{ js_worker: string }>(statementOf(this.policies().select('p.js_worker', 'js_worker').where('p.id = :id::bigint', { id })));
    return row?.js_worker;
  }

  /** Deletes policy `id` if its pattern is still `pattern`, audited; whether it did. */
  async delete(id: string, pattern: string, action: AuditAction): Promise<boolean> {
    const qb = this.database.dataSource
      .createQueryBuilder()
      .delete()
      .from(RetentionPolicy)
      .where('id = :id::bigint AND js_worker = :pattern', { id, pattern })
      .returning('id');
    const removed = await this.database.rows(audited(statementOf(qb), action));
    return removed.length > 0;
  }

  private policies() {
    return this.database.select(RetentionPolicy, 'p');
  }
}

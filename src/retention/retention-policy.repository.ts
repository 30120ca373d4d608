import { Injectable } from '@nestjs/common';
import { type AuditAction, audited } from '../database/audited-change';
import { Database } from '../database/database';
import { NOW_MS_SQL } from '../database/statement';
import type { Runner } from '../js-result/js-result.repository';
import type { Outcome } from './retention.params';

/** A policy as its table returns it (id as text: exact for 64-bit). */
export interface PolicyRow {
  id: string;
  js_worker: string;
  keep_days: number | null;
  keep_last: number | null;
  outcome: Outcome;
}

export interface PolicyValues {
  pattern: string;
  keepDays: number | null;
  keepLast: number | null;
  outcome: Outcome;
}

const POLICY_COLUMNS = 'id::text AS id, js_worker, keep_days, keep_last, outcome';

/**
 * The retention_policy table (`js_result_retention`): the only code that
 * reads or writes it. Changes are audited in their own statement. Text, not
 * the QueryBuilder: an upsert with RETURNING inside the audit wrapper's WITH
 * part, which TypeORM cannot write; the reads stay beside it for one place.
 */
@Injectable()
export class RetentionPolicyRepository {
  constructor(private readonly database: Database) {}

  /** Creates the policy for its pattern and outcome, or replaces the one there is (keeping its id). */
  async upsert(policy: PolicyValues, action: AuditAction): Promise<PolicyRow> {
    const upsert = {
      text: `INSERT INTO js_result_retention (js_worker, keep_days, keep_last, outcome, created_at)
VALUES ($1, $2::int, $3::int, $4, ${NOW_MS_SQL})
ON CONFLICT (js_worker, outcome) DO UPDATE SET keep_days = excluded.keep_days, keep_last = excluded.keep_last
RETURNING ${POLICY_COLUMNS}`,
      values: [policy.pattern, policy.keepDays, policy.keepLast, policy.outcome],
    };
    const [row] = await this.database.rows<PolicyRow>(audited(upsert, action));
    return row;
  }

  /** Every policy, oldest first. */
  all(on: Runner = this.database): Promise<PolicyRow[]> {
    return on.rows<PolicyRow>({ text: `SELECT ${POLICY_COLUMNS} FROM js_result_retention ORDER BY id`, values: [] });
  }

  /** The pattern of policy `id` (decimal text within int8), if it exists. */
  async patternOf(id: string): Promise<string | undefined> {
    const row = await this.database.first<{ js_worker: string }>({ text: 'SELECT js_worker FROM js_result_retention WHERE id = $1::bigint', values: [id] });
    return row?.js_worker;
  }

  /** Deletes policy `id` if its pattern is still `pattern`, audited; whether it did. */
  async delete(id: string, pattern: string, action: AuditAction): Promise<boolean> {
    const removal = { text: 'DELETE FROM js_result_retention WHERE id = $1::bigint AND js_worker = $2 RETURNING id', values: [id, pattern] };
    const removed = await this.database.rows(audited(removal, action));
    return removed.length > 0;
  }
}
